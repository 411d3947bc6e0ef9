//! A bounded LZO1X decompressor, and Btrfs's segmented LZO framing.
//!
//! The pure-Rust LZO crates on crates.io index their output with offsets
//! taken from the input and grow it without limit, so a hostile segment
//! panics or allocates without bound; this decoder checks every distance
//! and length against the output so far and its cap.

use crate::bytes::le32;

/// Btrfs splits LZO data into segments whose 4-byte length never
/// straddles a page of this size.
const PAGE: usize = 4096;

/// Decompresses Btrfs LZO data (a 4-byte total length, then per segment a
/// 4-byte length and LZO1X data) into at most `cap` bytes.
pub(super) fn btrfs_lzo(data: &[u8], cap: usize) -> Result<Vec<u8>, String> {
    let total = le32(data, 0) as usize;
    if total < 4 || total > data.len() {
        return Err(format!(
            "LZO total length {total} is outside the {}-byte extent",
            data.len()
        ));
    }
    let mut out = Vec::with_capacity(cap);
    let mut pos = 4usize;
    while pos < total && out.len() < cap {
        if PAGE - pos % PAGE < 4 {
            pos += PAGE - pos % PAGE;
            if pos >= total {
                break;
            }
        }
        let len = le32(data, pos) as usize;
        pos += 4;
        let segment = pos
            .checked_add(len)
            .filter(|&end| end <= total)
            .and_then(|end| data.get(pos..end))
            .ok_or_else(|| format!("LZO segment of {len} bytes at {pos} runs past the data"))?;
        lzo1x(segment, cap - out.len(), &mut out)?;
        pos += len;
    }
    Ok(out)
}

/// Appends the LZO1X stream `src` to `out`, writing at most `cap` bytes.
pub(super) fn lzo1x(src: &[u8], cap: usize, out: &mut Vec<u8>) -> Result<(), String> {
    let base = out.len();
    let limit = base + cap;
    let mut ip = 0usize;
    let byte = |ip: &mut usize| -> Result<usize, String> {
        let b = src.get(*ip).copied().ok_or("LZO data ends early")?;
        *ip += 1;
        Ok(usize::from(b))
    };
    // A length with an extension: zero bytes add 255 each, then a byte.
    let extended = |ip: &mut usize, base_len: usize| -> Result<usize, String> {
        let mut len = base_len;
        loop {
            let b = byte(ip)?;
            if b != 0 {
                return Ok(len + b);
            }
            len += 255;
        }
    };
    let literals = |ip: &mut usize, n: usize, out: &mut Vec<u8>| -> Result<(), String> {
        let run = src
            .get(*ip..*ip + n)
            .ok_or("LZO literal run ends past the data")?;
        if out.len() + n > limit {
            return Err(format!("LZO output passes its {cap}-byte bound"));
        }
        out.extend_from_slice(run);
        *ip += n;
        Ok(())
    };
    let mut state = 0usize;
    let first = usize::from(src.first().copied().unwrap_or(0));
    if first >= 22 {
        ip = 1;
        literals(&mut ip, first - 17, out)?;
        state = 4;
    } else if first >= 18 {
        ip = 1;
        state = first - 17;
        literals(&mut ip, state, out)?;
    }
    loop {
        let inst = byte(&mut ip)?;
        let (len, dist, next);
        if inst >= 64 {
            len = (inst >> 5) + 1;
            dist = (byte(&mut ip)? << 3) + ((inst >> 2) & 7) + 1;
            next = inst & 3;
        } else if inst >= 32 {
            len = if inst & 31 == 0 {
                extended(&mut ip, 31)?
            } else {
                inst & 31
            } + 2;
            let word = byte(&mut ip)? | (byte(&mut ip)? << 8);
            dist = (word >> 2) + 1;
            next = word & 3;
        } else if inst >= 16 {
            len = if inst & 7 == 0 {
                extended(&mut ip, 7)?
            } else {
                inst & 7
            } + 2;
            let word = byte(&mut ip)? | (byte(&mut ip)? << 8);
            let far = ((inst & 8) << 11) + (word >> 2);
            if far == 0 {
                return Ok(());
            }
            dist = 16384 + far;
            next = word & 3;
        } else if state == 0 {
            let len = if inst == 0 {
                extended(&mut ip, 15)?
            } else {
                inst
            } + 3;
            literals(&mut ip, len, out)?;
            state = 4;
            continue;
        } else if state < 4 {
            len = 2;
            dist = (inst >> 2) + (byte(&mut ip)? << 2) + 1;
            next = inst & 3;
        } else {
            len = 3;
            dist = (inst >> 2) + (byte(&mut ip)? << 2) + 2049;
            next = inst & 3;
        }
        if dist > out.len() - base {
            return Err(format!(
                "LZO match distance {dist} reaches before the output's start"
            ));
        }
        if out.len() + len > limit {
            return Err(format!("LZO output passes its {cap}-byte bound"));
        }
        let from = out.len() - dist;
        for i in 0..len {
            let b = out.get(from + i).copied().unwrap_or(0);
            out.push(b);
        }
        literals(&mut ip, next, out)?;
        state = next;
    }
}
