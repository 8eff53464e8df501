//! `Debug` for builders and handles whose fields are statements, closures or connections:
//! they print their name and say that they hold more (`Scatter { .. }`), so that a user's
//! `#[derive(Debug)]` over them compiles and nothing a statement binds is printed.

/// `opaque_debug!([generics] Type, "Name")`, with an optional `where` clause after the name.
macro_rules! opaque_debug {
    ([$($generics:tt)*] $ty:ty, $name:literal $(where $($bounds:tt)*)?) => {
        impl<$($generics)*> ::std::fmt::Debug for $ty $(where $($bounds)*)? {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.debug_struct($name).finish_non_exhaustive()
            }
        }
    };
}

pub(crate) use opaque_debug;
