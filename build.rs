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
//!   `.text.hot.mailman_gate_verdict`, and the closures, generic and
//!   standard-library code they run, named by symbol in [`HOT_RCPT`] and
//!   [`HOT_VERDICT`]; `tools/hot_text.sh` lists what is missing) in one
//!   64 KiB-aligned output section, so that a forked connection faults it
//!   in a few at a time.
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
    // Code the crate cannot mark (closures, generic code instantiated
    // for it, the standard library's and memchr's functions) is named by
    // its symbols' section (`.text.<symbol>`), hash left out.
    let dir = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR"));
    let script = dir.join("hot-text.ld");
    let sections = |own: &str, others: &[&str]| {
        let mut list = format!("*(.text.hot.{own})");
        for s in others {
            // `.text.unlikely.`: what LLVM sees as cold (`#[cold]`
            // functions such as a vector's growth) is named so.
            list.push_str(&format!(" *(.text.{s}) *(.text.unlikely.{s})"));
        }
        list
    };
    std::fs::write(
        &script,
        format!(
            "SECTIONS {{ .text.hot : ALIGN(0x10000) {{ {} }} }}\n\
             INSERT BEFORE .plt;\n\
             SECTIONS {{ .text.hot.verdict : {{ {} }} }}\n\
             INSERT AFTER .plt;\n",
            sections("mailman_gate", HOT_RCPT),
            sections("mailman_gate_verdict", HOT_VERDICT),
        ),
    )
    .expect("write the hot-text linker script");
    let flag = format!("-Wl,-T,{}", script.display());
    if linker_accepts(&cc, &flag) {
        println!("cargo:rustc-cdylib-link-arg={flag}");
    }
}

/// Symbols (as section-name patterns) of code a warm RCPT call runs that
/// no attribute can place: `tools/hot_text.sh` lists what a connection
/// runs outside the hot sections.
const HOT_RCPT: &[&str] = &["_ZN12mailman_gate4exim4rcpt28_$u7b$$u7b$closure$u7d$$u7d$17h*"];

/// The same for a warm DATA call (a member's post): generic code
/// instantiated for the verdict, the allocator's entry points, std's file
/// reads and string searches, memchr's routines.
const HOT_VERDICT: &[&str] = &[
    "_ZN4core3ptr*drop_in_place$LT$mailman_gate..decide..Verdict$GT$17h*",
    "_ZN4core3ptr*drop_in_place$LT$mailman_gate..decide..text..Lang$GT$17h*",
    "_ZN4core3ptr*drop_in_place$LT$mailman_gate..message..part..Part$GT$17h*",
    "_ZN4core3ptr*drop_in_place$LT$core..cell..RefCell$LT$smallvec..SmallVec$LT$$u5b$$LP$alloc..borrow..Cow$LT$str$GT$*",
    "_ZN4core4cell4once17OnceCell$LT$T$GT$8try_init17h*",
    "_ZN4core5slice5ascii30_$LT$impl$u20$$u5b$u8$u5d$$GT$27eq_ignore_ascii_case_chunks17h*",
    "_ZN116_$LT$core..iter..adapters..flatten..FlattenCompat$LT$I$C$U$GT$$u20$as$u20$core..iter..traits..iterator..Iterator$GT$4next17h*",
    "_ZN5alloc2rc15Rc$LT$T$C$A$GT$9drop_slow17h*",
    "_ZN5alloc3vec16Vec$LT$T$C$A$GT$15append_elements17h*",
    "_ZN5alloc7raw_vec20RawVecInner$LT$A$GT$*",
    "_ZN6memchr4arch6x86_64*",
    "_RNvCs*_7___rustc*___rust_alloc",
    "_RNvCs*_7___rustc*___rust_dealloc",
    "_RNvCs*_7___rustc*___rust_realloc",
    "_RNvCs*_7___rustc*___rust_no_alloc_shim_is_unstable_v2",
    "_RNvMNtCs*_5alloc6stringNtB2_6String11try_reserve",
    "_RNvMs4_NtCs*_5alloc7raw_vecNtB5_11RawVecInner11finish_growB7_",
    "_RNvNtCs*_5alloc2rc32rc_inner_layout_for_value_layout",
    "_RNvXs4_NtCs*_5alloc6stringNtB5_6StringNtNtCs*_4core5clone5Clone5clone",
    "_RNvNtNtCs*_4core5slice6memchr14memchr_aligned",
    "_RNvXs_NtNtCs*_4core3str7patternNtB4_12CharSearcherNtB4_8Searcher10next_match",
    "_RNvXNtNtNtCs*_3std2os4unix2fsNtNtB8_2fs4FileNtB2_7FileExt7read_at",
    "_RNvXsa_NtCs*_3std2fsNtB5_4FileNtNtB7_2io4Read4read",
];

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
