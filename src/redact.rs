//! Passwords out of everything grant prints. URLs carry credentials
//! (`postgres://app:secret@db0/app`); grant shows them as `postgres://app:***@db0/app` in
//! every `Debug`, `Display`, error and log line, including text that merely contains a URL
//! (a TOML parser's message that quotes the offending line, a driver's connection error).

use std::borrow::Cow;

/// `text` with the password of every URL in it replaced by `***` (the user name, host and
/// database stay, so the message still says where), and the value of any `password=` query
/// parameter too.
pub(crate) fn redact(text: &str) -> Cow<'_, str> {
    if !text.contains("://") && !text.contains("password=") {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(scheme_end) = rest.find("://") {
        let authority_start = scheme_end + 3;
        out.push_str(&rest[..authority_start]);
        let after = &rest[authority_start..];
        let end = after
            .find(|c: char| matches!(c, '/' | '?' | '#' | '"' | '\'' | '`') || c.is_whitespace())
            .unwrap_or(after.len());
        let authority = &after[..end];
        match authority.rfind('@') {
            Some(at) => {
                let userinfo = &authority[..at];
                match userinfo.split_once(':') {
                    Some((user, _password)) => {
                        out.push_str(user);
                        out.push_str(":***");
                    }
                    None => out.push_str(userinfo),
                }
                out.push_str(&authority[at..]);
            }
            None => out.push_str(authority),
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    Cow::Owned(redact_password_params(&out))
}

/// `password=...` (a query parameter or a libpq keyword) with its value replaced by `***`.
fn redact_password_params(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("password=") {
        let value_start = at + "password=".len();
        out.push_str(&rest[..value_start]);
        let value = &rest[value_start..];
        let end = value
            .find(|c: char| matches!(c, '&' | '"' | '\'' | '`') || c.is_whitespace())
            .unwrap_or(value.len());
        if end > 0 {
            out.push_str("***");
        }
        rest = &value[end..];
    }
    out.push_str(rest);
    out
}

/// A list of URLs, redacted, for `Debug`.
pub(crate) fn redact_all(urls: &[String]) -> Vec<Cow<'_, str>> {
    urls.iter().map(|u| redact(u)).collect()
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn passwords_are_replaced_wherever_a_url_stands() {
        let cases = [
            (
                "postgres://app:secret@db0:5432/app",
                "postgres://app:***@db0:5432/app",
            ),
            (
                "mysql://root:s3cr%40t@127.0.0.1/x?ssl=true",
                "mysql://root:***@127.0.0.1/x?ssl=true",
            ),
            ("postgres://app@db0/app", "postgres://app@db0/app"),
            ("/tmp/s0.db", "/tmp/s0.db"),
            (
                "TOML parse error at line 3\n  |\n3 | url = \"postgres://u:p@h/d\"\n  |",
                "TOML parse error at line 3\n  |\n3 | url = \"postgres://u:***@h/d\"\n  |",
            ),
            (
                "a postgres://a:b@h/x and mysql://c:d@i/y",
                "a postgres://a:***@h/x and mysql://c:***@i/y",
            ),
            (
                "postgres://h/db?user=u&password=pw&x=1",
                "postgres://h/db?user=u&password=***&x=1",
            ),
            (
                "host=h password=pw dbname=d",
                "host=h password=*** dbname=d",
            ),
            ("postgres://u:p@ss@h/d", "postgres://u:***@h/d"),
        ];
        for (input, expected) in cases {
            assert_eq!(redact(input), expected, "{input}");
        }
    }
}
