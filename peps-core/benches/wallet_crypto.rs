//! Throughput of the wallet's per-byte work, in process, one core: sealing and opening
//! (AES-256-GCM in 64 KiB chunks) and SHA-256, against a plain memory copy.
//!
//!     cargo bench -p peps-core --bench wallet_crypto
//!
//! The end-to-end figure (HTTP, disk, fsync) is `cargo bench -p peps-cli --bench wallet_load`.

use sha2::{Digest, Sha256};
use std::time::Instant;

use peps_core::wallet::crypto::{DataKey, Decryptor, Encryptor};

const TOTAL: usize = 512 * 1024 * 1024;
const PIECE: usize = 256 * 1024;

fn report(what: &str, started: Instant) {
    let secs = started.elapsed().as_secs_f64();
    println!("| {what} | {:.0} MB/s |", TOTAL as f64 / 1e6 / secs);
}

fn main() {
    let piece: Vec<u8> = (0..PIECE).map(|i| (i * 131 % 251) as u8).collect();
    println!("| work (512 MiB in 256 KiB pieces) | throughput |\n|---|---:|");

    let started = Instant::now();
    let mut sink = Vec::with_capacity(PIECE);
    for _ in 0..TOTAL / PIECE {
        sink.clear();
        sink.extend_from_slice(&piece);
        std::hint::black_box(&sink);
    }
    report("memory copy", started);

    let started = Instant::now();
    let mut hasher = Sha256::new();
    for _ in 0..TOTAL / PIECE {
        hasher.update(&piece);
    }
    std::hint::black_box(hasher.finalize());
    report("SHA-256 (sha2)", started);

    let started = Instant::now();
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    for _ in 0..TOTAL / PIECE {
        ctx.update(&piece);
    }
    std::hint::black_box(ctx.finish());
    report("SHA-256 (ring)", started);

    let key = DataKey::generate();
    let started = Instant::now();
    let mut e = Encryptor::new(&key);
    let mut n = 0;
    for _ in 0..TOTAL / PIECE {
        n += std::hint::black_box(e.update(&piece).unwrap()).len();
    }
    n += e.finish().unwrap().len();
    assert!(n > TOTAL);
    report("seal (AES-256-GCM, 64 KiB chunks)", started);

    let mut sealed = Vec::with_capacity(TOTAL + TOTAL / 1000);
    let mut e = Encryptor::new(&key);
    for _ in 0..TOTAL / PIECE {
        sealed.extend(e.update(&piece).unwrap());
    }
    sealed.extend(e.finish().unwrap());

    let started = Instant::now();
    let mut d = Decryptor::new(&key);
    let mut n = 0;
    for chunk in sealed.chunks(PIECE) {
        n += d.update(chunk).unwrap().len();
    }
    n += d.finish().unwrap().len();
    assert_eq!(n, TOTAL);
    report("open (authenticated)", started);
}
