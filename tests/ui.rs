//! Compile-time guarantees: each `tests/ui/*.rs` must fail to compile with the message
//! pinned in its `.stderr` (the table and the missing or wrong column are named).

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[test]
fn compile_errors_name_the_table_and_column() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
}

/// What must compile: `grant print-schema`'s output for diesel's generated schema
/// (`tests/data/grant_schema.rs`, checked against the binary in `tests/cli.rs`).
#[test]
fn generated_schema_compiles() {
    let cases = trybuild::TestCases::new();
    cases.pass("tests/ui_pass/*.rs");
}
