//! Any text as a TOML topology: parsing never panics, a refused topology is a typed error,
//! and every URL of an accepted one prints without its password.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    match grant::Topology::from_toml_str(text) {
        Ok(topology) => {
            let _ = format!("{topology:?}");
            let urls = topology.shards.iter().flat_map(|s| {
                std::iter::once(&s.url)
                    .chain(&s.replicas)
                    .chain(&s.failover_hosts)
            });
            for url in urls {
                if let Some(start) = authority_with_password(url) {
                    // Each URL as grant prints it never starts with its user and password.
                    let printed = format!("{:?}", grant::cluster::ShardNodes::primary(url.clone()));
                    let quoted = format!("{:?}", start);
                    let quoted = &quoted[..quoted.len() - 1];
                    assert!(!printed.contains(quoted), "{url:?} in {printed}");
                }
            }
        }
        Err(error) => {
            let _ = format!("{error} {error:?}");
        }
    }
});

/// `scheme://user:password@` of a URL that has a password.
fn authority_with_password(url: &str) -> Option<&str> {
    let scheme_end = url.find("://")?;
    let rest = &url[scheme_end + 3..];
    let authority = rest.split(['/', '?', '#']).next()?;
    let (userinfo, _host) = authority.rsplit_once('@')?;
    let (_user, password) = userinfo.split_once(':')?;
    (!password.is_empty()).then(|| &url[..scheme_end + 3 + userinfo.len() + 1])
}
