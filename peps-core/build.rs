//! rust-i18n reads `locales/` at compile time through a macro, which cargo does not know about:
//! without this, an edited translation is ignored until something else in the crate changes.
fn main() {
    println!("cargo:rerun-if-changed=locales");
}
