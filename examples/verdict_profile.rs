//! A loop of warm member-post verdicts (what the MTA calls), for profilers:
//!
//! ```text
//! cargo build --release --example verdict_profile
//! valgrind --tool=callgrind target/release/examples/verdict_profile 2000
//! valgrind --tool=dhat target/release/examples/verdict_profile 1000
//! ```
//!
//! The argument is the number of verdicts (default 1000); run it with 0
//! too, to subtract the start-up. The post is the benchmarks' realistic
//! one (`benches/post.eml`). `VERDICT_PROFILE_ROUND=1`: the verdicts run
//! inside revalidation rounds (one `stat` per 100 verdicts instead of one
//! each, as Exim's DATA call pays).

use mailman_gate::address::Kind;
use mailman_gate::gate::Gate;
use mailman_gate::site::Site;
use std::path::Path;

#[path = "../benches/post.rs"]
mod post;

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1000);
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lists");
    let site =
        Site::parse(&format!("lists_dir = {}\n", fixtures.display()), "profile").expect("site");
    let gate = Gate::new(site);
    let raw = post::post("alice@example.com", "test@example.com", 1);
    let raw = raw.as_bytes();
    let in_round = std::env::var_os("VERDICT_PROFILE_ROUND").is_some_and(|v| v == "1");
    for i in 0..n {
        // A round lasts at most a second of wall time, a few hundred
        // verdicts under valgrind: a new one every 100.
        if in_round && i % 100 == 0 {
            mailman_gate::store::begin_round();
        }
        std::hint::black_box(
            gate.check_with_trace("test", Kind::Post, Some("alice@example.com"), raw, false)
                .expect("check"),
        );
    }
}
