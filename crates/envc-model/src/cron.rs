//! Cron schedules as Kubernetes CronJobs accept them (five fields or a descriptor).

/// Why a schedule is invalid, with the byte range of the offending part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CronError {
    /// Byte offset in the expression.
    pub offset: usize,
    /// Byte length of the offending part.
    pub len: usize,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub hint: Option<String>,
}

const FIELDS: [(&str, u32, u32); 5] = [
    ("minute", 0, 59),
    ("hour", 0, 23),
    ("day of month", 1, 31),
    ("month", 1, 12),
    ("day of week", 0, 6),
];

/// Checks a schedule.
pub fn check(expr: &str) -> Result<(), CronError> {
    if expr.starts_with('@') {
        return match expr {
            "@yearly" | "@annually" | "@monthly" | "@weekly" | "@daily" | "@midnight"
            | "@hourly" => Ok(()),
            _ => Err(CronError {
                offset: 0,
                len: expr.len(),
                message: format!("unknown descriptor `{expr}`"),
                hint: Some("use @hourly, @daily, @weekly, @monthly or @yearly".into()),
            }),
        };
    }
    let fields: Vec<(usize, &str)> = expr
        .split(' ')
        .scan(0usize, |pos, f| {
            let at = *pos;
            *pos += f.len() + 1;
            Some((at, f))
        })
        .filter(|(_, f)| !f.is_empty())
        .collect();
    if fields.len() != 5 {
        return Err(CronError {
            offset: 0,
            len: expr.len(),
            message: format!(
                "expected 5 fields (minute hour day month weekday), found {}",
                fields.len()
            ),
            hint: None,
        });
    }
    for ((at, f), (what, lo, hi)) in fields.iter().zip(FIELDS) {
        for part in f.split(',') {
            let (range, step) = part.split_once('/').unwrap_or((part, "1"));
            let bad = |m: String| CronError {
                offset: *at,
                len: f.len(),
                message: m,
                hint: None,
            };
            if step.parse::<u32>().map_or(true, |s| s == 0) {
                return Err(bad(format!(
                    "{what} step `{step}` is not a positive number"
                )));
            }
            if range == "*" || (range == "?" && what.starts_with("day")) {
                continue;
            }
            let (a, b) = range.split_once('-').unwrap_or((range, range));
            for n in [a, b] {
                match n.parse::<u32>() {
                    Ok(v) if (lo..=hi).contains(&v) => {}
                    _ => {
                        return Err(bad(format!("{what} `{n}` is out of range {lo}-{hi}")));
                    }
                }
            }
        }
    }
    Ok(())
}
