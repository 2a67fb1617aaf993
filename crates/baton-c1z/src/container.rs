//! The v1 container: `C1ZF\0` followed by zstd-compressed SQLite bytes.
//!
//! Decompression streams file-to-file with a window cap and a decoded-size cap; compression streams
//! file-to-file into one zstd frame with the content size pledged and a 2 MiB window.

use crate::error::{C1zError, Result};
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::Path;

/// Magic of a classic (v1) c1z: `C1ZF\0`.
pub const C1Z_V1_MAGIC: [u8; 5] = *b"C1ZF\0";
/// Magic of a v3 (Pebble) c1z: `C1Z3\0`.
pub const C1Z_V3_MAGIC: [u8; 5] = *b"C1Z3\0";
/// Magic of a zstd frame (little-endian 0xFD2FB528).
pub(crate) const ZSTD_FRAME_MAGIC: [u8; 4] = [0x28, 0xB5, 0x2F, 0xFD];
/// SQLite file header string.
pub(crate) const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";

/// Decoder window limit, as log2 (27 = 128 MiB, SDK-new's default decoder memory).
pub(crate) const WINDOW_LOG_MAX: u32 = 27;
/// Window log used by the writer (2 MiB; old readers accept up to 32 MiB).
pub(crate) const WRITER_WINDOW_LOG: u32 = 21;
/// Default cap on the decompressed size (10 GiB, SDK-new's default).
pub const DEFAULT_MAX_DECODED_SIZE: u64 = 10 * 1024 * 1024 * 1024;

/// What the first five bytes of a file say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    /// 0 bytes.
    Empty,
    /// `C1ZF\0`.
    V1,
}

/// Parsed fields of a zstd frame header that matter for the limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FrameHeader {
    /// Frame_Content_Size when present.
    pub(crate) content_size: Option<u64>,
    /// Window size in bytes (equal to the content size for single-segment frames).
    pub(crate) window_size: u64,
    /// Whether a content checksum follows the last block.
    pub(crate) has_checksum: bool,
}

/// Parses the header of the zstd frame at the start of `b`.
///
/// Returns `Ok(None)` for a skippable frame, `Err(reason)` for a malformed or short header.
pub(crate) fn parse_frame_header(
    b: &[u8],
) -> std::result::Result<Option<FrameHeader>, &'static str> {
    if b.len() < 4 {
        return Err("shorter than a zstd frame magic");
    }
    if b[..4] != ZSTD_FRAME_MAGIC {
        // Skippable frames: magic 0x184D2A50..=0x184D2A5F, little-endian.
        if b[1..4] == [0x2A, 0x4D, 0x18] && (b[0] & 0xF0) == 0x50 {
            return Ok(None);
        }
        return Err("no zstd frame magic");
    }
    let fhd = *b.get(4).ok_or("truncated frame header")?;
    if fhd & 0x08 != 0 {
        return Err("reserved bit set in the frame header");
    }
    let fcs_flag = fhd >> 6;
    let single_segment = fhd & 0x20 != 0;
    let has_checksum = fhd & 0x04 != 0;
    let dict_len = [0usize, 1, 2, 4][usize::from(fhd & 0x03)];
    let fcs_len = match fcs_flag {
        0 => usize::from(single_segment),
        1 => 2,
        2 => 4,
        _ => 8,
    };
    let mut pos = 5;
    let mut window_size = 0u64;
    if !single_segment {
        let wd = *b.get(pos).ok_or("truncated frame header")?;
        pos += 1;
        let exponent = u32::from(wd >> 3);
        let mantissa = u64::from(wd & 0x07);
        let window_log = 10 + exponent;
        let base = 1u64 << window_log;
        window_size = base + (base / 8) * mantissa;
    }
    pos += dict_len;
    let content_size = if fcs_len == 0 {
        None
    } else {
        let field = b.get(pos..pos + fcs_len).ok_or("truncated frame header")?;
        let mut v = [0u8; 8];
        v[..fcs_len].copy_from_slice(field);
        let raw = u64::from_le_bytes(v);
        Some(if fcs_len == 2 { raw + 256 } else { raw })
    };
    if single_segment {
        window_size = content_size.unwrap_or(0);
    }
    Ok(Some(FrameHeader {
        content_size,
        window_size,
        has_checksum,
    }))
}

/// Reads the magic of `file` and classifies it; leaves the cursor after the magic.
pub(crate) fn read_magic(file: &mut File, path: &Path) -> Result<Format> {
    let mut magic = [0u8; 5];
    let mut got = 0;
    while got < magic.len() {
        match file.read(&mut magic[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(C1zError::io("read", path, e)),
        }
    }
    if got == 0 {
        return Ok(Format::Empty);
    }
    if got == 5 && magic == C1Z_V1_MAGIC {
        return Ok(Format::V1);
    }
    if got == 5 && magic == C1Z_V3_MAGIC {
        return Err(C1zError::PebbleV3 { path: path.into() });
    }
    Err(C1zError::BadMagic {
        path: path.into(),
        found: magic[..got].to_vec(),
    })
}

/// Limits applied while decompressing.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DecodeLimits {
    pub(crate) max_decoded_size: u64,
}

/// Decompresses the v1 payload of `src` (cursor just after the magic) into `dest_path`.
///
/// Checks the first frame's header (window, declared size) before decoding, enforces the size cap
/// while decoding, and checks that the result starts like a SQLite database. Returns the decoded size.
pub(crate) fn decompress_v1(
    src: File,
    path: &Path,
    dest_path: &Path,
    limits: DecodeLimits,
) -> Result<u64> {
    let mut src = src;
    let body_start = src
        .stream_position()
        .map_err(|e| C1zError::io("read", path, e))?;
    let mut head = [0u8; 18];
    let mut got = 0;
    while got < head.len() {
        match src.read(&mut head[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(C1zError::io("read", path, e)),
        }
    }
    if got == 0 {
        return Err(C1zError::TruncatedZstd { path: path.into() });
    }
    match parse_frame_header(&head[..got]) {
        Ok(Some(h)) => {
            let limit = 1u64 << WINDOW_LOG_MAX;
            // Single-segment frames use their content size as window; the decoder applies
            // the same limit to them.
            if h.window_size > limit {
                return Err(C1zError::WindowTooLarge {
                    path: path.into(),
                    window: h.window_size,
                    limit,
                });
            }
            if let Some(size) = h.content_size
                && size > limits.max_decoded_size
            {
                return Err(C1zError::DecodedTooLarge {
                    path: path.into(),
                    size,
                    limit: limits.max_decoded_size,
                });
            }
        }
        Ok(None) => {}
        Err(reason) => {
            // A header cut short by EOF is truncation; anything else is corruption.
            if got < head.len() && reason == "truncated frame header" || got < 4 {
                return Err(C1zError::TruncatedZstd { path: path.into() });
            }
            return Err(C1zError::CorruptZstd {
                path: path.into(),
                source: io::Error::new(io::ErrorKind::InvalidData, reason),
            });
        }
    }
    src.seek(SeekFrom::Start(body_start))
        .map_err(|e| C1zError::io("read", path, e))?;

    let mut out = File::create(dest_path).map_err(|e| C1zError::io("create", dest_path, e))?;
    let mut decoder =
        zstd::stream::read::Decoder::with_buffer(BufReader::with_capacity(1 << 20, src))
            .map_err(|e| C1zError::io("initialise the zstd decoder for", path, e))?;
    decoder
        .window_log_max(WINDOW_LOG_MAX)
        .map_err(|e| C1zError::io("initialise the zstd decoder for", path, e))?;
    // Large chunks: fewer decoder calls and write syscalls.
    let mut chunk = vec![0u8; 1 << 20];
    let mut decoded: u64 = 0;
    loop {
        let n = match decoder.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(classify_decode_error(path, e)),
        };
        decoded += n as u64;
        if decoded > limits.max_decoded_size {
            return Err(C1zError::DecodedTooLarge {
                path: path.into(),
                size: decoded,
                limit: limits.max_decoded_size,
            });
        }
        out.write_all(&chunk[..n])
            .map_err(|e| C1zError::io("write", dest_path, e))?;
    }
    drop(out);
    check_sqlite_header(dest_path, path, decoded)?;
    Ok(decoded)
}

/// Maps a zstd decoding error to the matching variant.
fn classify_decode_error(path: &Path, e: io::Error) -> C1zError {
    if e.kind() == io::ErrorKind::UnexpectedEof {
        return C1zError::TruncatedZstd { path: path.into() };
    }
    let msg = e.to_string();
    if msg.contains("too much memory") || msg.contains("window") {
        return C1zError::WindowTooLarge {
            path: path.into(),
            window: 0,
            limit: 1u64 << WINDOW_LOG_MAX,
        };
    }
    C1zError::CorruptZstd {
        path: path.into(),
        source: e,
    }
}

/// Checks the first 100 bytes of a decoded database file.
fn check_sqlite_header(db_path: &Path, path: &Path, size: u64) -> Result<()> {
    let not_sqlite = |reason: String| C1zError::NotSqlite {
        path: path.into(),
        reason,
    };
    if size < 100 {
        return Err(not_sqlite(format!(
            "{size} bytes, shorter than a SQLite header"
        )));
    }
    let mut f = File::open(db_path).map_err(|e| C1zError::io("open", db_path, e))?;
    let mut header = [0u8; 100];
    f.read_exact(&mut header)
        .map_err(|e| C1zError::io("read", db_path, e))?;
    if &header[..16] != SQLITE_MAGIC {
        return Err(not_sqlite("no \"SQLite format 3\" header".into()));
    }
    let raw_page = u32::from(u16::from_be_bytes([header[16], header[17]]));
    let page_size = if raw_page == 1 { 65536 } else { raw_page };
    if !(512..=65536).contains(&page_size) || !page_size.is_power_of_two() {
        return Err(not_sqlite(format!("invalid page size {page_size}")));
    }
    if !size.is_multiple_of(u64::from(page_size)) {
        return Err(not_sqlite(format!(
            "size {size} is not a multiple of the page size {page_size} (truncated?)"
        )));
    }
    Ok(())
}

/// Compression settings of the writer.
#[derive(Debug, Clone, Copy)]
pub(crate) struct EncodeSettings {
    pub(crate) level: i32,
    /// zstd worker threads (0 = compress on the calling thread).
    pub(crate) workers: u32,
}

/// Writes `C1ZF\0` + one zstd frame of the file at `db_path` into `out`.
///
/// The frame pledges the exact content size, carries a checksum and uses a 2 MiB window.
pub(crate) fn compress_v1(
    db_path: &Path,
    out: &mut File,
    out_path: &Path,
    settings: EncodeSettings,
) -> Result<u64> {
    let src = File::open(db_path).map_err(|e| C1zError::io("open", db_path, e))?;
    let size = src
        .metadata()
        .map_err(|e| C1zError::io("stat", db_path, e))?
        .len();
    let enc_err = |e: io::Error| C1zError::io("compress into", out_path, e);
    let mut sink = BufWriter::with_capacity(1 << 20, &mut *out);
    sink.write_all(&C1Z_V1_MAGIC).map_err(enc_err)?;
    let mut encoder = zstd::stream::write::Encoder::new(sink, settings.level).map_err(enc_err)?;
    if settings.workers > 0 {
        // Still one frame; the workers compress its blocks in parallel.
        encoder.multithread(settings.workers).map_err(enc_err)?;
    }
    encoder.include_checksum(true).map_err(enc_err)?;
    encoder.include_contentsize(true).map_err(enc_err)?;
    encoder.long_distance_matching(false).map_err(enc_err)?;
    encoder.window_log(WRITER_WINDOW_LOG).map_err(enc_err)?;
    encoder.set_pledged_src_size(Some(size)).map_err(enc_err)?;
    let mut reader = BufReader::with_capacity(1 << 20, src).take(size);
    let copied =
        io::copy(&mut reader, &mut encoder).map_err(|e| C1zError::io("read", db_path, e))?;
    if copied != size {
        return Err(C1zError::io(
            "read",
            db_path,
            io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "database file shrank while compressing",
            ),
        ));
    }
    let mut sink = encoder.finish().map_err(enc_err)?;
    sink.flush().map_err(enc_err)?;
    drop(sink);
    Ok(size)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn frame_header_parsing() {
        let data = vec![7u8; 10_000];
        let mut enc = zstd::stream::write::Encoder::new(Vec::new(), 3).unwrap();
        enc.include_contentsize(true).unwrap();
        enc.set_pledged_src_size(Some(10_000)).unwrap();
        enc.write_all(&data).unwrap();
        let frame = enc.finish().unwrap();
        let h = parse_frame_header(&frame).unwrap().unwrap();
        assert_eq!(h.content_size, Some(10_000));
        assert!(h.window_size >= 10_000 && h.window_size <= 1 << 23);
        assert!(parse_frame_header(b"abcd").is_err());
        assert!(parse_frame_header(&[0x28, 0xB5, 0x2F, 0xFD]).is_err());
        assert_eq!(
            parse_frame_header(&[0x50, 0x2A, 0x4D, 0x18, 0, 0, 0, 0]),
            Ok(None)
        );
    }
}
