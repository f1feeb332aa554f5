//! The tests' DNS server as a program, for running Mailman (the oracle)
//! against the same zone: `cargo run --release --example dmarc_dns_server
//! -- tests/oracle/dmarc_zone.txt 25653` serves until killed.

#[path = "../tests/common/dns_zone.rs"]
mod dns_zone;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(zone), Some(port)) = (args.get(1), args.get(2).and_then(|p| p.parse().ok())) else {
        eprintln!("usage: dmarc_dns_server ZONE_FILE PORT");
        std::process::exit(2);
    };
    let text = std::fs::read_to_string(zone).expect("zone file");
    let server = dns_zone::DnsServer::start(dns_zone::Zone::parse(&text), port);
    println!("serving {zone} on {}", server.addr);
    loop {
        std::thread::park();
    }
}
