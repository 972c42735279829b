# pragma version 0.4.3
# @title BizNodeLookup
# @notice Read-only helper deployed beside BizNodeRegistry: resolves a name and reads its
#         node in ONE eth_call (DESIGN.md, Resolution 3), instead of resolveDNS then nodes.
#         It holds no state but the registry's address and works against the Solidity
#         original as well as the Vyper port (it only uses their public ABI).
# @dev    lookup() returns nodeHash = 0 and empty fields when the name is not registered.

interface Registry:
    def resolveDNS(dnsName: String[253]) -> bytes32: view
    def nodes(nodeHash: bytes32) -> (address, String[253], bool, uint256, uint256): view

registry: public(address)


@deploy
def __init__(registry: address):
    self.registry = registry


@external
@view
def lookup(dnsName: String[253]) -> (bytes32, address, String[253], bool, uint256, uint256):
    nodeHash: bytes32 = staticcall Registry(self.registry).resolveDNS(dnsName)
    if nodeHash == empty(bytes32):
        return empty(bytes32), empty(address), "", False, 0, 0
    wallet: address = empty(address)
    name: String[253] = ""
    verified: bool = False
    stake: uint256 = 0
    registeredAt: uint256 = 0
    wallet, name, verified, stake, registeredAt = staticcall Registry(self.registry).nodes(nodeHash)
    return nodeHash, wallet, name, verified, stake, registeredAt
