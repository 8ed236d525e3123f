//! No input makes envc panic: truncations at many offsets and byte mutations of the real model
//! all end in exit 0 or 2, never a crash.

use std::fs;

use crate::common::{envc, lakehouse_project, parts};

/// A small deterministic generator (xorshift), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn truncated_and_mutated_inputs_never_crash() {
    let t = lakehouse_project();
    let env = t.path().join("environments/crypto-lakehouse.toml");
    let profile = t.path().join("profiles/k3s.toml");
    let original = fs::read(&env).expect("read");
    let original_profile = fs::read(&profile).expect("read");
    let mut rng = Rng(0x5eed_1234_abcd_ef01);
    let bytes: &[u8] = b"[]{}=\"'\\,.$ \n#0zZ-_\xff";
    let mut cases: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    for _ in 0..40 {
        let cut = (rng.next() as usize) % original.len();
        cases.push((original[..cut].to_vec(), original_profile.clone()));
    }
    for _ in 0..40 {
        let mut m = original.clone();
        for _ in 0..3 {
            let i = (rng.next() as usize) % m.len();
            m[i] = bytes[(rng.next() as usize) % bytes.len()];
        }
        cases.push((m, original_profile.clone()));
    }
    for _ in 0..20 {
        let mut p = original_profile.clone();
        let i = (rng.next() as usize) % p.len();
        p[i] = bytes[(rng.next() as usize) % bytes.len()];
        cases.push((original.clone(), p));
    }
    for (i, (e, p)) in cases.iter().enumerate() {
        fs::write(&env, e).expect("write");
        fs::write(&profile, p).expect("write");
        assert_clean_exit(t.path(), "k3s", i);
    }
}

/// `envc check --target MODE` ends in exit 0, or in exit 2 with a diagnostic; never a crash.
fn assert_clean_exit(dir: &std::path::Path, mode: &str, case: usize) {
    let (code, _, err) = parts(&envc(dir, &["check", "--target", mode]));
    assert!(code == 0 || code == 2, "case {case}: exit {code}\n{err}");
    assert!(!err.contains("panicked"), "case {case}: {err}");
    if code == 2 {
        assert!(
            err.contains("error["),
            "case {case}: an error without a diagnostic: {err}"
        );
    }
}

#[test]
fn truncated_and_mutated_locks_never_crash() {
    let t = lakehouse_project();
    let lock = t.path().join("locks/crypto-lakehouse/eks.toml");
    let original = fs::read(&lock).expect("read");
    let mut rng = Rng(0x10c4_5eed_0bad_cafe);
    let bytes: &[u8] = b"[]{}=\"'\\,.$ \n#0zZ-_\xff";
    let mut cases: Vec<Vec<u8>> = Vec::new();
    for _ in 0..25 {
        let cut = (rng.next() as usize) % original.len();
        cases.push(original[..cut].to_vec());
    }
    for _ in 0..25 {
        let mut m = original.clone();
        for _ in 0..3 {
            let i = (rng.next() as usize) % m.len();
            m[i] = bytes[(rng.next() as usize) % bytes.len()];
        }
        cases.push(m);
    }
    for (i, l) in cases.iter().enumerate() {
        fs::write(&lock, l).expect("write");
        assert_clean_exit(t.path(), "eks", i);
    }
}
