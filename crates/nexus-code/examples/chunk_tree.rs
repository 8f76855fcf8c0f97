//! Walks a directory, chunks every file and prints throughput as one JSON line; with `--dump`,
//! prints every chunk's location, kind and symbols first.
//!
//! ```sh
//! cargo run --release -p nexus-code --example chunk_tree -- ~/.cargo/registry/src
//! ```

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use nexus_code::WalkOptions;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let dump = args.iter().any(|a| a == "--dump");
    let root = args.iter().find(|a| !a.starts_with("--")).map_or(".", String::as_str);

    let started = Instant::now();
    let mut walk = nexus_code::walk(root, &WalkOptions::default())?;
    let (mut files, mut bytes, mut chunks) = (0u64, 0u64, 0u64);
    let mut chunking = Duration::ZERO;
    let mut per_language: BTreeMap<&'static str, (u64, u64)> = BTreeMap::new();
    for file in &mut walk {
        let file = match file {
            Ok(file) => file,
            Err(e) => {
                eprintln!("{e}");
                continue;
            }
        };
        let t = Instant::now();
        let file_chunks = nexus_code::chunk_file(&file);
        chunking += t.elapsed();
        files += 1;
        bytes += file.content.len() as u64;
        chunks += file_chunks.len() as u64;
        let entry = per_language.entry(file.language.as_str()).or_default();
        entry.0 += 1;
        entry.1 += file_chunks.len() as u64;
        if dump {
            for c in &file_chunks {
                println!(
                    "{}:{}-{} {} {:?} cx={:?}",
                    c.file, c.start_line, c.end_line, c.kind, c.symbols, c.complexity
                );
            }
        }
    }
    let total = started.elapsed().as_secs_f64();
    let secs = chunking.as_secs_f64();
    let languages: Vec<String> =
        per_language.iter().map(|(l, (f, c))| format!("\"{l}\":{{\"files\":{f},\"chunks\":{c}}}")).collect();
    println!(
        "{{\"root\":{root:?},\"files\":{files},\"bytes\":{bytes},\"chunks\":{chunks},\"chunk_secs\":{secs:.3},\
         \"total_secs\":{total:.3},\"files_per_sec\":{:.0},\"chunks_per_sec\":{:.0},\"mib_per_sec\":{:.1},\
         \"walk\":\"{:?}\",\"languages\":{{{}}}}}",
        files as f64 / secs,
        chunks as f64 / secs,
        bytes as f64 / secs / 1048576.0,
        walk.stats(),
        languages.join(",")
    );
    Ok(())
}
