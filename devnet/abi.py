"""The little ABI encoding the devnet needs for its sample transactions."""


def word(value: int) -> bytes:
    return value.to_bytes(32, "big")


def encode_string_tail(text: str) -> bytes:
    data = text.encode("utf-8")
    padded = data + bytes((32 - len(data) % 32) % 32)
    return word(len(data)) + padded


def encode_bytes32_string(b32: bytes, text: str) -> str:
    """abi.encode(bytes32, string) as hex (no 0x)."""
    assert len(b32) == 32
    return (b32 + word(64) + encode_string_tail(text)).hex()


def encode_string(text: str) -> str:
    """abi.encode(string) as hex (no 0x)."""
    return (word(32) + encode_string_tail(text)).hex()


def error_string(reason: str) -> str:
    """Revert data of `Error(string)` (selector 0x08c379a0), 0x-hex."""
    return "0x08c379a0" + encode_string(reason)


def decode_error_string(data: bytes):
    """The reason in `Error(string)` revert data, or None for other data."""
    if len(data) < 68 or data[:4] != bytes.fromhex("08c379a0"):
        return None
    try:
        offset = int.from_bytes(data[4:36], "big")
        length = int.from_bytes(data[4 + offset:36 + offset], "big")
        return data[36 + offset:36 + offset + length].decode("utf-8")
    except (UnicodeDecodeError, IndexError):
        return None
