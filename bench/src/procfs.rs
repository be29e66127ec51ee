//! Resident memory of a process tree (from /proc) and disk usage of a directory.

use std::collections::HashMap;
use std::path::Path;

/// A field of /proc/PID/status in kB (e.g. "VmRSS", "VmHWM").
fn status_kb(pid: u32, field: &str) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    text.lines()
        .find(|l| l.starts_with(field) && l[field.len()..].starts_with(':'))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
}

/// `pid` and all its descendants (a server may be a wrapper script plus a runtime).
pub fn tree(pid: u32) -> Vec<u32> {
    let mut children: HashMap<u32, Vec<u32>> = HashMap::new();
    if let Ok(dir) = std::fs::read_dir("/proc") {
        for entry in dir.flatten() {
            let Some(p) = entry
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<u32>().ok())
            else {
                continue;
            };
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{p}/stat")) else {
                continue;
            };
            // The command name is in parentheses and may contain spaces: skip past it.
            let Some(after) = stat.rfind(')').map(|i| &stat[i + 1..]) else {
                continue;
            };
            if let Some(ppid) = after
                .split_whitespace()
                .nth(1)
                .and_then(|v| v.parse::<u32>().ok())
            {
                children.entry(ppid).or_default().push(p);
            }
        }
    }
    let mut out = vec![pid];
    let mut i = 0;
    while i < out.len() {
        if let Some(c) = children.get(&out[i]) {
            out.extend(c);
        }
        i += 1;
    }
    out
}

/// Summed VmRSS (kB) of the process tree; `None` if the process is gone.
pub fn rss_kb(pid: u32) -> Option<u64> {
    let own = status_kb(pid, "VmRSS")?;
    Some(
        own + tree(pid)
            .into_iter()
            .skip(1)
            .filter_map(|p| status_kb(p, "VmRSS"))
            .sum::<u64>(),
    )
}

/// Peak RSS (VmHWM, kB) of the process tree, summed.
pub fn hwm_kb(pid: u32) -> Option<u64> {
    let own = status_kb(pid, "VmHWM")?;
    Some(
        own + tree(pid)
            .into_iter()
            .skip(1)
            .filter_map(|p| status_kb(p, "VmHWM"))
            .sum::<u64>(),
    )
}

/// Bytes allocated on disk under `dir`, as `du` counts them (blocks × 512).
pub fn disk_bytes(dir: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    let mut total = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(meta) = std::fs::symlink_metadata(&d) else {
            continue;
        };
        total += meta.blocks() * 512;
        if meta.is_dir() {
            if let Ok(rd) = std::fs::read_dir(&d) {
                stack.extend(rd.flatten().map(|e| e.path()));
            }
        }
    }
    total
}

#[cfg(test)]
mod tests {
    #[test]
    fn own_rss_is_found() {
        let me = std::process::id();
        assert!(super::rss_kb(me).unwrap() > 0);
        assert!(super::tree(me).contains(&me));
    }
}
