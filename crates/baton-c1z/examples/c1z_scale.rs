//! Scale check of the c1z writer and reader: writes a synthetic sync with `--grants N` grants
//! (default 1 000 000; plus 10 000 users, 1 000 groups, 100 roles), reads every grant back, and
//! prints throughput. Run under `/usr/bin/time -v` to see the peak RSS:
//!
//! `cargo run --release -p baton-c1z --example c1z_scale -- --grants 1000000 [--dir DIR] [--keep]`
//!
//! `--append` adds the sync to `DIR/scale.c1z` instead of starting a new file (the file keeps
//! the two newest syncs): two runs with different `--grants` make a file whose two syncs differ
//! by the grants at the end (the input of the access-review `diff` measurement).
//!
//! Writer variants, to compare with the defaults: `--lookup-indexes` (write the non-unique
//! lookup indexes into the file), `--no-insert-thread` (insert on the calling thread),
//! `--batch-size N` (rows per SQLite transaction). `--filtered` also times a first filtered
//! grant listing (which builds the lookup index it needs on the reader's copy).
#![allow(clippy::print_stdout, clippy::print_stderr)]

#[path = "support/scale_data.rs"]
mod scale_data;

use baton_c1z::{C1zReader, C1zWriter, GrantFilter, ReaderOptions, WriterOptions};
use std::path::PathBuf;
use std::time::Instant;

/// CPU seconds (user + system) used by this process so far, from `/proc/self/stat` (Linux);
/// 0 elsewhere. Wall-clock figures depend on other load; CPU time much less so.
fn cpu_secs() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // Field 14 is index 11 after the name (fields 3.. start at index 0); USER_HZ is 100 on Linux.
    (ticks(11) + ticks(12)) / 100.0
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut grants = 1_000_000usize;
    let mut dir: Option<PathBuf> = None;
    let mut keep = false;
    let mut filtered = false;
    let mut append = false;
    let mut opts = WriterOptions::default();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--grants" => {
                grants = args
                    .next()
                    .ok_or("--grants needs a value")?
                    .replace('_', "")
                    .parse()?
            }
            "--dir" => dir = Some(args.next().ok_or("--dir needs a value")?.into()),
            "--keep" => keep = true,
            "--append" => append = true,
            "--filtered" => filtered = true,
            "--lookup-indexes" => opts = opts.with_lookup_indexes(true),
            "--no-insert-thread" => opts = opts.with_insert_thread(false),
            "--batch-size" => {
                opts = opts.with_batch_size(
                    args.next()
                        .ok_or("--batch-size needs a value")?
                        .replace('_', "")
                        .parse()?,
                )
            }
            other => {
                return Err(format!(
                    "unknown argument {other}; usage: --grants N [--dir DIR] [--keep] [--append] [--filtered] \
                     [--lookup-indexes] [--no-insert-thread] [--batch-size N]"
                )
                .into());
            }
        }
    }
    let tmp = tempfile::tempdir()?;
    let dir = dir.unwrap_or_else(|| tmp.path().to_path_buf());
    let path = dir.join("scale.c1z");
    if !append {
        let _ = std::fs::remove_file(&path);
    }
    let shape = scale_data::Shape::with_grants(grants);

    let c0 = cpu_secs();
    let t0 = Instant::now();
    let mut w = C1zWriter::create(&path, opts)?;
    let n = scale_data::write_workspace(&mut w, shape)?;
    let t_insert = t0.elapsed();
    let summary = w.finish()?;
    let t_write = t0.elapsed();
    let c_write = cpu_secs() - c0;
    println!(
        "write: {n} grants in {:.2} s wall, {:.2} s CPU (inserts {:.2} s, finish incl. compression {:.2} s) = {:.0} grants/s; database {:.1} MB, c1z {:.1} MB",
        t_write.as_secs_f64(),
        c_write,
        t_insert.as_secs_f64(),
        (t_write - t_insert).as_secs_f64(),
        n as f64 / t_write.as_secs_f64(),
        summary.database_bytes as f64 / 1e6,
        summary.file_bytes as f64 / 1e6,
    );

    let c1 = cpu_secs();
    let t1 = Instant::now();
    let reader = C1zReader::open(&path, ReaderOptions::default())?;
    let t_open = t1.elapsed();
    let view = reader.latest()?;
    let mut count = 0usize;
    let mut check = 0usize;
    for g in view.grants(&GrantFilter::default()) {
        let g = g?;
        check += g.id.len();
        count += 1;
    }
    let t_read = t1.elapsed();
    let c_read = cpu_secs() - c1;
    println!(
        "read: {count} grants in {:.2} s wall, {:.2} s CPU (open incl. decompression {:.2} s, iterate + decode {:.2} s) = {:.0} grants/s (checksum {check})",
        t_read.as_secs_f64(),
        c_read,
        t_open.as_secs_f64(),
        (t_read - t_open).as_secs_f64(),
        count as f64 / t_read.as_secs_f64(),
    );
    if count != n {
        return Err(format!("read {count} grants, wrote {n}").into());
    }
    if filtered {
        // Grants of one group's `member` entitlement: the first such listing builds the
        // (entitlement_id, sync_id, id) index on the reader's copy unless the file has it.
        let filter = GrantFilter {
            entitlement_id: Some("group:group_000500:member".into()),
            ..GrantFilter::default()
        };
        for round in ["first", "second"] {
            let t = Instant::now();
            let found = view.grants(&filter).count();
            println!(
                "filtered ({round}): {found} grants of one entitlement in {:.3} s",
                t.elapsed().as_secs_f64()
            );
        }
    }
    drop(view);
    drop(reader);
    if keep {
        let kept = std::env::current_dir()?.join("scale.c1z");
        std::fs::copy(&path, &kept)?;
        println!("kept a copy at {}", kept.display());
    }
    Ok(())
}
