// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

contract BizNodeRegistry {

    struct Node {
        address wallet;
        string dnsName;        // example: shashi.1bz
        bool verified;
        uint256 stakeAmount;
        uint256 registeredAt;
    }

    mapping(bytes32 => Node) public nodes;          // nodeHash => Node
    mapping(string => bytes32) public dnsToNode;    // dnsName => nodeHash

    uint256 public verificationFee = 10 ether;      // adjustable
    address public owner;

    event NodeRegistered(bytes32 indexed nodeHash, address wallet, string dnsName);
    event NodeVerified(bytes32 indexed nodeHash);
    event StakeAdded(bytes32 indexed nodeHash, uint256 amount);
    event TrustUpdated(bytes32 indexed nodeHash, uint256 score);

    modifier onlyOwner() {
        require(msg.sender == owner, "Not authorized");
        _;
    }

    constructor() {
        owner = msg.sender;
    }

    function registerNode(bytes32 nodeHash, string memory dnsName) external {

        require(nodes[nodeHash].wallet == address(0), "Already registered");
        require(dnsToNode[dnsName] == 0x0, "DNS already taken");

        nodes[nodeHash] = Node({
            wallet: msg.sender,
            dnsName: dnsName,
            verified: false,
            stakeAmount: 0,
            registeredAt: block.timestamp
        });

        dnsToNode[dnsName] = nodeHash;

        emit NodeRegistered(nodeHash, msg.sender, dnsName);
    }

    function verifyNode(bytes32 nodeHash) external payable {

        require(nodes[nodeHash].wallet != address(0), "Not registered");
        require(msg.value >= verificationFee, "Insufficient fee");

        nodes[nodeHash].verified = true;

        emit NodeVerified(nodeHash);
    }

    function addStake(bytes32 nodeHash) external payable {

        require(nodes[nodeHash].wallet == msg.sender, "Not owner");

        nodes[nodeHash].stakeAmount += msg.value;

        emit StakeAdded(nodeHash, msg.value);
    }

    function resolveDNS(string memory dnsName) public view returns (bytes32) {
        return dnsToNode[dnsName];
    }

    function updateVerificationFee(uint256 newFee) external onlyOwner {
        verificationFee = newFee;
    }

    function transferOwnership(address newOwner) external onlyOwner {
        owner = newOwner;
    }
}
