//! Any string into the tap address decoder, and any bytes into the address
//! TLV decoder for every network: none may panic, and an address that
//! decodes encodes to a string that decodes to the same address.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lumen_plugin_taproot_assets::address::{Address, Network};

fuzz_target!(|data: &[u8]| {
    for network in [
        Network::Mainnet,
        Network::Testnet,
        Network::Regtest,
        Network::Simnet,
    ] {
        if let Ok(addr) = Address::decode_tlv(network, data) {
            let again = Address::decode(&addr.encode()).expect("an encoded address decodes");
            assert_eq!(again, addr);
        }
    }
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(addr) = Address::decode(text)
    {
        assert_eq!(Address::decode(&addr.encode()).as_ref(), Ok(&addr));
    }
});
