"""The 1bz devnet: a JSON-RPC server over eth-tester with BizNodeRegistry deployed.

A test and demo fixture, not product (DESIGN.md, Processes). Start it with
`scripts/devnet --port 8545 --state-dir DIR [--sample]`; see docs/chain.md.
"""
