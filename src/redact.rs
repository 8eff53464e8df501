//! Passwords out of everything grant prints. URLs carry credentials
//! (`postgres://app:secret@db0/app`); grant shows them as `postgres://app:***@db0/app` in
//! every `Debug`, `Display`, error and log line, including text that merely contains a URL
//! (a TOML parser's message that quotes the offending line, a driver's connection error).

use std::borrow::Cow;

/// `text` with the password of every URL in it replaced by `***` (the user name, host and
/// database stay, so the message still says where), the password of a `user:password@host`
/// written without a scheme too, and the value of any `password=` parameter.
pub(crate) fn redact(text: &str) -> Cow<'_, str> {
    if !text.contains('@') && !text.contains("password=") {
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
    Cow::Owned(redact_password_params(&redact_bare_userinfo(&out)))
}

/// `user:password@host` outside a URL's authority (no `scheme://` before it, or in a URL's
/// path, query or fragment): everything between the first `:` and the last `@` of such a
/// word becomes `***`.
fn redact_bare_userinfo(text: &str) -> String {
    let is_delimiter =
        |c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '`' | '(' | '[' | ',' | '=' | '<');
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(|c: char| !is_delimiter(c)) {
        out.push_str(&rest[..start]);
        let word_len = rest[start..]
            .find(is_delimiter)
            .unwrap_or(rest.len() - start);
        let word = &rest[start..start + word_len];
        match word.find("://") {
            Some(scheme) => {
                let after = scheme + 3;
                let end = word[after..]
                    .find(['/', '?', '#'])
                    .map_or(word.len(), |e| after + e);
                out.push_str(&word[..end]);
                push_bare(&mut out, &word[end..]);
            }
            None => push_bare(&mut out, word),
        }
        rest = &rest[start + word_len..];
    }
    out.push_str(rest);
    out
}

/// `word`, with `user:***@host` in place of `user:password@host`.
fn push_bare(out: &mut String, word: &str) {
    match (word.rfind('@'), word.find(':')) {
        (Some(at), Some(colon)) if colon < at && !word[..at].contains('/') => {
            out.push_str(&word[..colon]);
            out.push_str(":***");
            out.push_str(&word[at..]);
        }
        _ => out.push_str(word),
    }
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

/// One configured URL, redacted, however it is written: the authority runs to the first
/// `/`, `?` or `#` (a password with a space or a quote in it is still all replaced), then the
/// rest of the text is redacted as [`redact`] does.
pub(crate) fn redact_url(url: &str) -> Cow<'_, str> {
    let Some(scheme_end) = url.find("://") else {
        return redact(url);
    };
    let scheme = &url[..scheme_end];
    if scheme.is_empty()
        || !scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '.' | '-'))
    {
        // Not a URL a driver could read; nothing in it can be told apart from a password.
        return Cow::Borrowed("*** (not a URL)");
    }
    let after = &url[scheme_end + 3..];
    let end = after.find(['/', '?', '#']).unwrap_or(after.len());
    let authority = &after[..end];
    let Some((userinfo, host)) = authority.rsplit_once('@') else {
        return redact(url);
    };
    let Some((user, _password)) = userinfo.split_once(':') else {
        return redact(url);
    };
    let rest = redact(&after[end..]);
    Cow::Owned(format!("{}{user}:***@{host}{rest}", &url[..scheme_end + 3]))
}

/// A list of configured URLs, redacted, for `Debug`.
pub(crate) fn redact_all(urls: &[String]) -> Vec<Cow<'_, str>> {
    urls.iter().map(|u| redact_url(u)).collect()
}

#[cfg(test)]
mod tests {
    use super::{redact, redact_url};

    #[test]
    fn configured_urls_lose_their_whole_password() {
        assert_eq!(
            redact_url("postgres://app:sec ret@db0/app"),
            "postgres://app:***@db0/app"
        );
        assert_eq!(
            redact_url("mysql://u:p\"q@h:1/d?password=x"),
            "mysql://u:***@h:1/d?password=***"
        );
        assert_eq!(redact_url("/tmp/s0.db"), "/tmp/s0.db");
        assert_eq!(
            redact_url("postgres://appl?casp:secret@db0"),
            "postgres://appl?casp:***@db0"
        );
        assert_eq!(redact_url("p[x:secret@h/://a:b@c"), "*** (not a URL)");
    }

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
            ("app:secret@db0:5432", "app:***@db0:5432"),
            ("[\"postgres:user:secret@db0\"]", "[\"postgres:***@db0\"]"),
            ("see user@example.com", "see user@example.com"),
            ("at 12:30 @ noon", "at 12:30 @ noon"),
        ];
        for (input, expected) in cases {
            assert_eq!(redact(input), expected, "{input}");
        }
    }
}
