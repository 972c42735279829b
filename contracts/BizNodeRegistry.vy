# pragma version 0.4.3
# @title BizNodeRegistry (Vyper port)
# @notice Port of BizNodeRegistry.sol (the seed's contract) with the same external ABI:
#         the same function selectors, return shapes, events (same indexed parameters)
#         and revert conditions/messages. Differences, all unobservable for valid input:
#         - strings are bounded: a dnsName longer than MAX_NAME (253 bytes, the longest
#           DNS name in text form) makes the call revert in ABI decoding, where Solidity
#           would accept it;
#         - storage layout differs (nobody reads storage slots directly).
# @dev    Compiled by the devnet with evm_version "paris" (no PUSH0), so the same
#         bytecode also deploys on Polygon PoS.

struct Node:
    wallet: address
    dnsName: String[253]
    verified: bool
    stakeAmount: uint256
    registeredAt: uint256

event NodeRegistered:
    nodeHash: indexed(bytes32)
    wallet: address
    dnsName: String[253]

event NodeVerified:
    nodeHash: indexed(bytes32)

event StakeAdded:
    nodeHash: indexed(bytes32)
    amount: uint256

# Declared (and part of the ABI) like the Solidity source, which never emits it either:
# trust scores are computed off chain; the event is reserved for a later upgrade.
event TrustUpdated:
    nodeHash: indexed(bytes32)
    score: uint256

# Solidity's `mapping(bytes32 => Node) public nodes` getter returns the struct's fields
# as five separate outputs; a Vyper public struct getter would return one tuple (an extra
# offset word), so the getter below is written by hand.
_nodes: HashMap[bytes32, Node]

dnsToNode: public(HashMap[String[253], bytes32])
verificationFee: public(uint256)
owner: public(address)


@deploy
def __init__():
    self.owner = msg.sender
    self.verificationFee = 10 * 10**18


@external
@view
def nodes(nodeHash: bytes32) -> (address, String[253], bool, uint256, uint256):
    n: Node = self._nodes[nodeHash]
    return n.wallet, n.dnsName, n.verified, n.stakeAmount, n.registeredAt


@external
def registerNode(nodeHash: bytes32, dnsName: String[253]):
    assert self._nodes[nodeHash].wallet == empty(address), "Already registered"
    assert self.dnsToNode[dnsName] == empty(bytes32), "DNS already taken"
    self._nodes[nodeHash] = Node(
        wallet=msg.sender,
        dnsName=dnsName,
        verified=False,
        stakeAmount=0,
        registeredAt=block.timestamp,
    )
    self.dnsToNode[dnsName] = nodeHash
    log NodeRegistered(nodeHash=nodeHash, wallet=msg.sender, dnsName=dnsName)


@external
@payable
def verifyNode(nodeHash: bytes32):
    assert self._nodes[nodeHash].wallet != empty(address), "Not registered"
    assert msg.value >= self.verificationFee, "Insufficient fee"
    self._nodes[nodeHash].verified = True
    log NodeVerified(nodeHash=nodeHash)


@external
@payable
def addStake(nodeHash: bytes32):
    assert self._nodes[nodeHash].wallet == msg.sender, "Not owner"
    self._nodes[nodeHash].stakeAmount += msg.value
    log StakeAdded(nodeHash=nodeHash, amount=msg.value)


@external
@view
def resolveDNS(dnsName: String[253]) -> bytes32:
    return self.dnsToNode[dnsName]


@external
def updateVerificationFee(newFee: uint256):
    assert msg.sender == self.owner, "Not authorized"
    self.verificationFee = newFee


@external
def transferOwnership(newOwner: address):
    assert msg.sender == self.owner, "Not authorized"
    self.owner = newOwner
