//! Link settings for the shared library that MTAs load into every SMTP
//! connection's process (see README, "Benchmarks").
//!
//! - No `libgcc_s.so.1`: the panic boundary's unwinder is linked in
//!   statically from `libgcc_eh.a`. `-lgcc_s`, which the Rust standard
//!   library asks for, resolves to a linker script here that names the
//!   static archive instead. Exim itself does not load `libgcc_s`, so each
//!   process saved loading it (and running its CPU-probing constructor).
//! - Relative relocations packed (`DT_RELR`, glibc >= 2.36): the table the
//!   loader reads shrinks from about 200 KiB to a few KiB.
//! - The code of a warm RCPT and DATA call (functions marked
//!   `#[link_section = ".text.hot.mailman_gate"]`, then the verdict's,
//!   `.text.hot.mailman_gate_verdict`) in one 64 KiB-aligned output
//!   section, so that a forked connection faults it in a few at a time.
//!
//! All only for the cdylib, and only where the toolchain has them.

use std::path::PathBuf;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=CC");
    let target = std::env::var("TARGET").unwrap_or_default();
    // Sanitizer builds (cargo fuzz) bring their own runtime: leave them as
    // the toolchain links them.
    let rustflags = std::env::var("CARGO_ENCODED_RUSTFLAGS").unwrap_or_default();
    if !target.ends_with("-linux-gnu") || rustflags.contains("sanitizer") {
        return;
    }
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    if let Some(eh) = gcc_file(&cc, "libgcc_eh.a") {
        let dir = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR")).join("static-unwind");
        std::fs::create_dir_all(&dir).expect("create OUT_DIR/static-unwind");
        std::fs::write(
            dir.join("libgcc_s.so"),
            format!(
                "/* GNU ld script: the unwinder, statically */\nINPUT({})\n",
                eh.display()
            ),
        )
        .expect("write the libgcc_s linker script");
        println!("cargo:rustc-cdylib-link-arg=-L{}", dir.display());
    }
    if linker_accepts(&cc, "-Wl,-z,pack-relative-relocs") {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-z,pack-relative-relocs");
    }
    // The code a warm RCPT and DATA call runs (functions marked
    // `#[link_section = ".text.hot.mailman_gate"]`) in one output section
    // that starts on a 64 KiB boundary: a new process faults in file pages
    // 64 KiB at a time, aligned, so it fits one such fault wherever the
    // rest of the code falls. Placed before the PLT, which those calls go
    // through for the thread-local block. The verdict's own code (DATA
    // only, `.text.hot.mailman_gate_verdict`) right after the PLT, so that
    // RCPT's code and the PLT stay in the first 64 KiB.
    let dir = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR"));
    let script = dir.join("hot-text.ld");
    std::fs::write(
        &script,
        "SECTIONS { .text.hot : ALIGN(0x10000) { *(.text.hot.mailman_gate) } }\n\
         INSERT BEFORE .plt;\n\
         SECTIONS { .text.hot.verdict : { *(.text.hot.mailman_gate_verdict) } }\n\
         INSERT AFTER .plt;\n",
    )
    .expect("write the hot-text linker script");
    let flag = format!("-Wl,-T,{}", script.display());
    if linker_accepts(&cc, &flag) {
        println!("cargo:rustc-cdylib-link-arg={flag}");
    }
}

/// `cc -print-file-name=NAME`, if the compiler has that file.
fn gcc_file(cc: &str, name: &str) -> Option<PathBuf> {
    let out = Command::new(cc)
        .arg(format!("-print-file-name={name}"))
        .output()
        .ok()?;
    let p = PathBuf::from(String::from_utf8(out.stdout).ok()?.trim());
    (out.status.success() && p.is_absolute() && p.is_file()).then_some(p)
}

/// Whether `cc` links an empty shared object with `flag`.
fn linker_accepts(cc: &str, flag: &str) -> bool {
    let dir = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR"));
    let src = dir.join("probe.c");
    if std::fs::write(&src, "int mailman_gate_probe(void) { return 0; }\n").is_err() {
        return false;
    }
    Command::new(cc)
        .args(["-shared", "-fPIC", flag, "-o"])
        .arg(dir.join("probe.so"))
        .arg(&src)
        .output()
        .is_ok_and(|o| o.status.success())
}
