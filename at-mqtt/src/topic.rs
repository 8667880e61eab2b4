//! Topic names (for publishing) and topic filters (for subscribing): MQTT's rules and
//! SPEC.md's 128-byte limit.

use at_core::ErrorCode;

use crate::error::{TOPIC_IS_NULL, TOPIC_IS_OVERLENGTH, TOPIC_READ_FAILED};

/// The longest topic or topic filter, in bytes.
pub const MAX_TOPIC: usize = 128;

/// `topic` as text when it is 1..=[`MAX_TOPIC`] bytes of UTF-8 without NUL, and
/// whether it holds a wildcard character (`+` or `#`).
fn checked_text(topic: &[u8]) -> Result<(&str, bool), ErrorCode> {
    if topic.is_empty() {
        return Err(TOPIC_IS_NULL);
    }
    if topic.len() > MAX_TOPIC {
        return Err(TOPIC_IS_OVERLENGTH);
    }
    // One pass over the bytes for NUL and the wildcards (str's char patterns cost more).
    let mut wildcard = false;
    for &byte in topic {
        match byte {
            0 => return Err(TOPIC_READ_FAILED),
            b'+' | b'#' => wildcard = true,
            _ => {}
        }
    }
    let text = core::str::from_utf8(topic).map_err(|_| TOPIC_READ_FAILED)?;
    Ok((text, wildcard))
}

/// Checks a topic name: 1..=128 bytes of UTF-8, no NUL, no wildcard.
pub fn topic_name(topic: &[u8]) -> Result<&str, ErrorCode> {
    match checked_text(topic)? {
        (text, false) => Ok(text),
        (_, true) => Err(TOPIC_READ_FAILED),
    }
}

/// Checks a topic filter: like a name, but `+` may fill a whole level and `#` may fill
/// the last level.
pub fn topic_filter(filter: &[u8]) -> Result<&str, ErrorCode> {
    let (text, wildcard) = checked_text(filter)?;
    if !wildcard {
        return Ok(text);
    }
    // Each wildcard must fill its level: `+` any level, `#` only the last.
    let fills_its_level = filter.iter().enumerate().all(|(i, &byte)| {
        let starts_level = i == 0 || filter.get(i - 1) == Some(&b'/');
        let next = filter.get(i + 1);
        match byte {
            b'+' => starts_level && matches!(next, None | Some(b'/')),
            b'#' => starts_level && next.is_none(),
            _ => true,
        }
    });
    if !fills_its_level {
        return Err(TOPIC_READ_FAILED);
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(topic_name(b"test/abc"), Ok("test/abc"));
        assert_eq!(topic_name(b"/"), Ok("/"));
        assert_eq!(topic_name(&[b'a'; 128]).map(str::len), Ok(128));
        assert_eq!(topic_name(&[b'a'; 129]), Err(TOPIC_IS_OVERLENGTH));
        assert_eq!(topic_name(b""), Err(TOPIC_IS_NULL));
        for bad in [&b"a/+"[..], b"#", b"a\0b", b"\xff"] {
            assert_eq!(topic_name(bad), Err(TOPIC_READ_FAILED), "{bad:?}");
        }
    }

    #[test]
    fn filters() {
        for good in [
            "a/b",
            "+",
            "#",
            "a/+/c",
            "a/#",
            "+/+/#",
            "/+",
            "sport/tennis/+",
        ] {
            assert_eq!(topic_filter(good.as_bytes()), Ok(good), "{good}");
        }
        for bad in ["a/#/b", "a+", "a/b#", "#/a", "a/+b", "++", "a\0b", "a\0/#"] {
            assert_eq!(
                topic_filter(bad.as_bytes()),
                Err(TOPIC_READ_FAILED),
                "{bad}"
            );
        }
    }

    /// Every filter of up to 6 bytes of `a`, `/`, `+` and `#` is accepted exactly when
    /// each of its levels is `+`, a `#` that is the last level, or free of wildcards.
    #[test]
    fn wildcards_are_accepted_exactly_when_they_fill_their_level() {
        fn by_levels(filter: &str) -> bool {
            let levels: Vec<&str> = filter.split('/').collect();
            levels.iter().enumerate().all(|(i, level)| match *level {
                "+" => true,
                "#" => i + 1 == levels.len(),
                other => !other.contains(['+', '#']),
            })
        }
        let mut filters = vec![String::new()];
        for _ in 0..6 {
            filters = filters
                .iter()
                .flat_map(|f| ['a', '/', '+', '#'].map(|c| format!("{f}{c}")))
                .collect();
            for filter in &filters {
                assert_eq!(
                    topic_filter(filter.as_bytes()).is_ok(),
                    by_levels(filter),
                    "{filter}"
                );
            }
        }
    }
}
