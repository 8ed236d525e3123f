//! A small HCL writer for the Terraform root module: blocks, attributes and comments, laid out
//! as `terraform fmt` lays them out (two-space indentation, the `=` of consecutive one-line
//! attributes aligned, one blank line between top-level blocks).

use std::fmt::Write as _;

use super::hcl_string;

/// One line-level item of a body.
#[derive(Debug, Clone)]
pub enum Item {
    /// `name = expression`; the expression may span lines (indented relative to the name).
    Attr(String, String),
    /// `kind "label" ... { body }`.
    Block(String, Vec<String>, Vec<Item>),
    /// `# text`.
    Comment(String),
    /// An empty line.
    Blank,
}

/// An attribute.
pub fn attr(name: &str, expr: impl Into<String>) -> Item {
    Item::Attr(name.to_string(), expr.into())
}

/// An attribute holding a string literal.
pub fn attr_str(name: &str, text: &str) -> Item {
    Item::Attr(name.to_string(), hcl_string(text))
}

/// A block with labels.
pub fn block(kind: &str, labels: &[&str], body: Vec<Item>) -> Item {
    Item::Block(
        kind.to_string(),
        labels.iter().map(|l| (*l).to_string()).collect(),
        body,
    )
}

/// A comment line.
pub fn comment(text: impl Into<String>) -> Item {
    Item::Comment(text.into())
}

/// An object expression `{ key = value ... }` over several lines, keys aligned; keys that are
/// not identifiers are quoted.
pub fn object(entries: &[(&str, String)]) -> String {
    if entries.is_empty() {
        return "{}".into();
    }
    let items: Vec<Item> = entries
        .iter()
        .map(|(k, v)| Item::Attr(key(k), v.clone()))
        .collect();
    let mut s = "{\n".to_string();
    write_body(&mut s, &items, 1);
    s.push('}');
    s
}

/// A list of string literals on one line.
pub fn string_list(items: &[&str]) -> String {
    let parts: Vec<String> = items.iter().map(|i| hcl_string(i)).collect();
    format!("[{}]", parts.join(", "))
}

fn key(k: &str) -> String {
    let ident = k
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if ident { k.to_string() } else { hcl_string(k) }
}

/// A file of top-level items, blank lines between blocks.
pub fn file(header: &str, items: &[Item]) -> String {
    let mut s = header.to_string();
    let mut first = true;
    for item in items {
        if !first || !header.is_empty() {
            s.push('\n');
        }
        first = false;
        write_body(&mut s, std::slice::from_ref(item), 0);
    }
    s
}

fn write_body(out: &mut String, items: &[Item], depth: usize) {
    let pad = "  ".repeat(depth);
    let mut i = 0;
    while i < items.len() {
        match &items[i] {
            Item::Attr(..) => {
                // A run of attributes aligns its `=`s; a multi-line value ends the run.
                let mut j = i;
                while j < items.len() {
                    match &items[j] {
                        Item::Attr(_, v) => {
                            j += 1;
                            if v.contains('\n') {
                                break;
                            }
                        }
                        _ => break,
                    }
                }
                let width = items[i..j]
                    .iter()
                    .map(|x| match x {
                        Item::Attr(n, _) => n.len(),
                        _ => 0,
                    })
                    .max()
                    .unwrap_or(0);
                for x in &items[i..j] {
                    if let Item::Attr(n, v) = x {
                        let v = v.replace('\n', &format!("\n{pad}"));
                        let _ = writeln!(out, "{pad}{n:width$} = {v}");
                    }
                }
                i = j;
            }
            Item::Block(kind, labels, body) => {
                let mut head = kind.clone();
                for l in labels {
                    head.push(' ');
                    head.push_str(&hcl_string(l));
                }
                if body.is_empty() {
                    let _ = writeln!(out, "{pad}{head} {{}}");
                } else {
                    let _ = writeln!(out, "{pad}{head} {{");
                    write_body(out, body, depth + 1);
                    let _ = writeln!(out, "{pad}}}");
                }
                i += 1;
            }
            Item::Comment(c) => {
                let _ = writeln!(out, "{pad}# {c}");
                i += 1;
            }
            Item::Blank => {
                out.push('\n');
                i += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_align_until_a_multi_line_value() {
        let items = vec![block(
            "module",
            &["vpc"],
            vec![
                attr_str("source", "x/y"),
                attr("cidr", "local.cidr"),
                attr(
                    "tags",
                    object(&[("a", "1".into()), ("kubernetes.io/x", "2".into())]),
                ),
                attr("azs", "var.zones"),
                Item::Blank,
                comment("why"),
                block("lifecycle", &[], vec![]),
            ],
        )];
        assert_eq!(
            file("", &items),
            "module \"vpc\" {\n  source = \"x/y\"\n  cidr   = local.cidr\n  tags   = {\n    a                 = 1\n    \"kubernetes.io/x\" = 2\n  }\n  azs = var.zones\n\n  # why\n  lifecycle {}\n}\n"
        );
    }
}
