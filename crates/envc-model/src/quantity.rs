//! Kubernetes-style quantities (CPU and memory) and durations, parsed and validated.

use std::fmt;

use serde::{Deserialize, Deserializer};

/// A CPU amount, kept as written and as millicores.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Cpu {
    /// As written (`"500m"`, `"2"`), normalised to a string.
    pub text: String,
    /// In thousandths of a core.
    pub millis: u64,
}

/// A memory or storage amount, kept as written and in bytes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Bytes {
    /// As written (`"512Mi"`, `"20Gi"`).
    pub text: String,
    /// In bytes.
    pub bytes: u64,
}

/// A duration in whole seconds, written as `"30s"`, `"2m"`, `"1h"` or `"1m30s"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Duration {
    /// Seconds.
    pub seconds: u32,
}

impl Cpu {
    /// Parses `"250m"`, `"0.5"`, `"2"`.
    pub fn parse(s: &str) -> Result<Cpu, String> {
        let hint = "write CPU as cores (\"1\", \"0.5\") or millicores (\"250m\")";
        let millis = if let Some(m) = s.strip_suffix('m') {
            m.parse::<u64>()
                .map_err(|_| format!("invalid CPU amount \"{s}\": {hint}"))?
        } else {
            let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
            if whole.is_empty() && frac.is_empty() || frac.len() > 3 {
                return Err(format!("invalid CPU amount \"{s}\": {hint}"));
            }
            let whole: u64 = if whole.is_empty() {
                0
            } else {
                whole
                    .parse()
                    .map_err(|_| format!("invalid CPU amount \"{s}\": {hint}"))?
            };
            let frac_m: u64 = if frac.is_empty() {
                0
            } else {
                let v: u64 = frac
                    .parse()
                    .map_err(|_| format!("invalid CPU amount \"{s}\": {hint}"))?;
                v * 10u64.pow(3 - frac.len() as u32)
            };
            whole * 1000 + frac_m
        };
        if millis == 0 {
            return Err(format!("CPU amount \"{s}\" is zero: {hint}"));
        }
        Ok(Cpu {
            text: s.to_string(),
            millis,
        })
    }

    /// A CPU amount from millicores, written canonically.
    pub fn from_millis(millis: u64) -> Cpu {
        let text = if millis.is_multiple_of(1000) {
            (millis / 1000).to_string()
        } else {
            format!("{millis}m")
        };
        Cpu { text, millis }
    }

    /// Cores as a decimal string (`0.5`, `2`), as Compose wants them.
    pub fn cores(&self) -> String {
        if self.millis.is_multiple_of(1000) {
            (self.millis / 1000).to_string()
        } else {
            let s = format!("{}.{:03}", self.millis / 1000, self.millis % 1000);
            s.trim_end_matches('0').to_string()
        }
    }
}

const BINARY: [(&str, u64); 6] = [
    ("Ki", 1 << 10),
    ("Mi", 1 << 20),
    ("Gi", 1 << 30),
    ("Ti", 1 << 40),
    ("Pi", 1 << 50),
    ("Ei", 1 << 60),
];
const DECIMAL: [(&str, u64); 6] = [
    ("k", 1_000),
    ("M", 1_000_000),
    ("G", 1_000_000_000),
    ("T", 1_000_000_000_000),
    ("P", 1_000_000_000_000_000),
    ("E", 1_000_000_000_000_000_000),
];

impl Bytes {
    /// Parses `"512Mi"`, `"1G"`, `"1048576"`.
    pub fn parse(s: &str) -> Result<Bytes, String> {
        let hint = "write sizes with a binary suffix such as \"512Mi\" or \"20Gi\"";
        let (num, mult) = BINARY
            .iter()
            .chain(DECIMAL.iter())
            .find_map(|(suf, m)| s.strip_suffix(suf).map(|n| (n, *m)))
            .unwrap_or((s, 1));
        let n: u64 = num
            .parse()
            .map_err(|_| format!("invalid size \"{s}\": {hint}"))?;
        let bytes = n
            .checked_mul(mult)
            .ok_or_else(|| format!("size \"{s}\" is too large"))?;
        if bytes == 0 {
            return Err(format!("size \"{s}\" is zero: {hint}"));
        }
        Ok(Bytes {
            text: s.to_string(),
            bytes,
        })
    }

    /// A size in bytes, written with the largest binary suffix that divides it.
    pub fn from_bytes(bytes: u64) -> Bytes {
        let text = BINARY
            .iter()
            .rev()
            .find(|(_, m)| bytes >= *m && bytes.is_multiple_of(*m))
            .map_or_else(|| bytes.to_string(), |(s, m)| format!("{}{}", bytes / m, s));
        Bytes { text, bytes }
    }

    /// The size in Compose's byte notation (`512m`, `2g`), which uses binary units.
    pub fn compose(&self) -> String {
        for (suf, m) in [("g", 1u64 << 30), ("m", 1 << 20), ("k", 1 << 10)] {
            if self.bytes.is_multiple_of(m) {
                return format!("{}{}", self.bytes / m, suf);
            }
        }
        format!("{}b", self.bytes)
    }
}

impl Duration {
    /// Parses `"30s"`, `"2m"`, `"1h"`, `"1m30s"`, `"1d"`.
    pub fn parse(s: &str) -> Result<Duration, String> {
        let bad = || {
            format!(
                "invalid duration \"{s}\": write it as \"10s\", \"2m\", \"1m30s\", \"6h\" or \"1d\""
            )
        };
        if s.is_empty() {
            return Err(bad());
        }
        let mut total: u64 = 0;
        let mut num = String::new();
        for c in s.chars() {
            if c.is_ascii_digit() {
                num.push(c);
                continue;
            }
            let unit = match c {
                's' => 1,
                'm' => 60,
                'h' => 3600,
                'd' => 86_400,
                _ => return Err(bad()),
            };
            let n: u64 = num.parse().map_err(|_| bad())?;
            total += n * unit;
            num.clear();
        }
        if !num.is_empty() {
            return Err(bad());
        }
        let seconds = u32::try_from(total).map_err(|_| bad())?;
        Ok(Duration { seconds })
    }

    /// Compose's notation (`30s`, `1m30s`).
    pub fn compose(&self) -> String {
        let (m, s) = (self.seconds / 60, self.seconds % 60);
        match (m, s) {
            (0, s) => format!("{s}s"),
            (m, 0) => format!("{m}m"),
            (m, s) => format!("{m}m{s}s"),
        }
    }
}

impl fmt::Display for Cpu {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Display for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.compose())
    }
}

/// Accepts a string or an integer and hands the text to a parser.
fn text_or_number<'de, D: Deserializer<'de>>(d: D, what: &'static str) -> Result<String, D::Error> {
    struct V(&'static str);
    impl serde::de::Visitor<'_> for V {
        type Value = String;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "{}", self.0)
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<String, E> {
            Ok(v.to_string())
        }
        fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<String, E> {
            Ok(v.to_string())
        }
        fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<String, E> {
            Ok(v.to_string())
        }
        fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<String, E> {
            Ok(v.to_string())
        }
    }
    d.deserialize_any(V(what))
}

impl<'de> Deserialize<'de> for Cpu {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = text_or_number(d, "a CPU amount such as \"500m\" or \"1\"")?;
        Cpu::parse(&s).map_err(serde::de::Error::custom)
    }
}

impl<'de> Deserialize<'de> for Bytes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = text_or_number(d, "a size such as \"512Mi\"")?;
        Bytes::parse(&s).map_err(serde::de::Error::custom)
    }
}

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = text_or_number(d, "a duration such as \"10s\"")?;
        Duration::parse(&s).map_err(serde::de::Error::custom)
    }
}

macro_rules! string_schema {
    ($t:ty, $name:literal, $desc:literal, $pattern:literal) => {
        impl schemars::JsonSchema for $t {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                $name.into()
            }
            fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
                schemars::json_schema!({
                    "description": $desc,
                    "type": ["string", "integer"],
                    "pattern": $pattern
                })
            }
        }
    };
}

string_schema!(
    Cpu,
    "Cpu",
    "CPU in cores (\"1\", \"0.5\") or millicores (\"250m\")",
    "^([0-9]+m|[0-9]*\\.?[0-9]{1,3})$"
);
string_schema!(
    Bytes,
    "Bytes",
    "A size such as \"512Mi\" or \"20Gi\"",
    "^[0-9]+(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$"
);
string_schema!(
    Duration,
    "Duration",
    "A duration such as \"10s\", \"2m\" or \"1m30s\"",
    "^([0-9]+[smh])+$"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu() {
        assert_eq!(Cpu::parse("250m").map(|c| c.millis), Ok(250));
        assert_eq!(Cpu::parse("0.5").map(|c| c.millis), Ok(500));
        assert_eq!(Cpu::parse("2").map(|c| c.millis), Ok(2000));
        assert_eq!(
            Cpu::parse("1.25").map(|c| c.cores()),
            Ok("1.25".to_string())
        );
        assert_eq!(Cpu::parse("500m").map(|c| c.cores()), Ok("0.5".to_string()));
        assert!(Cpu::parse("2 cores").is_err());
        assert!(Cpu::parse("0").is_err());
        assert_eq!(Cpu::from_millis(4000).text, "4");
    }

    #[test]
    fn bytes() {
        assert_eq!(Bytes::parse("512Mi").map(|b| b.bytes), Ok(512 << 20));
        assert_eq!(Bytes::parse("1G").map(|b| b.bytes), Ok(1_000_000_000));
        assert_eq!(
            Bytes::parse("1Gi").map(|b| b.compose()),
            Ok("1g".to_string())
        );
        assert_eq!(
            Bytes::parse("768Mi").map(|b| b.compose()),
            Ok("768m".to_string())
        );
        assert!(Bytes::parse("1GB").is_err());
        assert_eq!(Bytes::from_bytes(3 << 30).text, "3Gi");
    }

    #[test]
    fn durations() {
        assert_eq!(Duration::parse("1m30s").map(|d| d.seconds), Ok(90));
        assert_eq!(
            Duration::parse("90s").map(|d| d.compose()),
            Ok("1m30s".to_string())
        );
        assert!(Duration::parse("10").is_err());
        assert!(Duration::parse("10ms").is_err());
    }
}
