//! Shard keys are immutable, checked when compiling: an `UPDATE` that can reach [`Sharded`]
//! carries a changeset whose columns grant has checked ([`Checked`]), and none of them is a
//! shard-key column.
//!
//! Diesel's own changeset types (`Assign`) are private, so grant reads a changeset's columns
//! where they are public: a `column.eq(value)` (or a tuple of them, or an `Option` of one) is
//! also an `Insertable` whose values name each column (`ColumnInsertValue<column, _>`), and a
//! `#[derive(AsChangeset)]` struct says its columns with `#[derive(grant::Changeset)]`.
//!
//! [`Sharded`]: crate::Sharded

use diesel::backend::Backend;
use diesel::insertable::{ColumnInsertValue, DefaultableColumnInsertValue, Insertable};
use diesel::query_builder::{AsChangeset, AstPass, QueryFragment, QueryId, ValuesClause};
use diesel::query_source::QuerySource;
use diesel::result::QueryResult;

/// A column that an `UPDATE` through [`crate::Sharded`] may assign: every column of a
/// `grant::table!` except its shard-key columns. `grant::table!` implements it; a shard-key
/// column's impl demands a check trait that names the table and the column, so assigning
/// one is a compile error that says which. `Why` is only there to carry that check.
///
/// ```
/// # use grant::__doc_schema::order_items;
/// use grant::shard::UpdatableColumn;
/// fn updatable<C: UpdatableColumn<()>>() {}
/// updatable::<order_items::quantity>();
/// ```
///
/// ```compile_fail
/// # use grant::__doc_schema::order_items;
/// use grant::shard::UpdatableColumn;
/// fn updatable<C: UpdatableColumn<()>>() {}
/// updatable::<order_items::order_id>(); // order_items shards by order_id
/// ```
#[diagnostic::on_unimplemented(
    message = "grant cannot tell whether `{Self}` is a shard-key column",
    label = "a column of a table declared with diesel's `table!`",
    note = "declare the table with `grant::table!` so that grant can check that an UPDATE through `Sharded` leaves its shard key alone"
)]
pub trait UpdatableColumn<Why> {}

/// Why a column is checked: it is assigned by an `UPDATE`.
#[doc(hidden)]
#[derive(Debug)]
pub struct Assigned;

/// Insert values (diesel's `Insertable::Values` of a changeset) that assign no shard-key
/// column.
#[doc(hidden)]
pub trait FreeOfShardKey {}

impl<C: UpdatableColumn<Assigned>, E> FreeOfShardKey for ColumnInsertValue<C, E> {}
impl<X: FreeOfShardKey> FreeOfShardKey for DefaultableColumnInsertValue<X> {}
impl<X: FreeOfShardKey, Tab> FreeOfShardKey for ValuesClause<X, Tab> {}

macro_rules! free_tuples {
    ($($t:ident)+) => {
        impl<$($t: FreeOfShardKey),+> FreeOfShardKey for ($($t,)+) {}
    };
}

macro_rules! all_tuples {
    ($first:ident $($rest:ident)*) => {
        free_tuples!($first $($rest)*);
        all_tuples!($($rest)*);
    };
    () => {};
}

all_tuples!(A B C D E F G H I J K L M N O P Q R S T U V W X Y Z A1 B1 C1 D1 E1 F1);

/// How a changeset's columns were read: from its insert values.
#[doc(hidden)]
#[derive(Debug)]
pub struct ByValues;

/// How a changeset's columns were read: from `#[derive(grant::Changeset)]`, which
/// implements [`ShardSafeChangeset`] with it for the struct and references to it (an impl
/// per struct rather than a blanket one, so that the compile error of a `column.eq(..)`
/// changeset can name its column).
#[doc(hidden)]
#[derive(Debug)]
pub struct ByDerive;

/// A changeset of table `T` that assigns no shard-key column: `column.eq(value)`, tuples
/// of them, `Option`s of them, or a struct with `#[derive(AsChangeset, grant::Changeset)]`
/// (see [`crate::Changeset`]). `M` is how grant read its columns (inferred; never written).
///
/// ```
/// # use grant::__doc_schema::order_items;
/// use grant::prelude::*;
/// use grant::shard::ShardSafeChangeset;
/// fn check<V: ShardSafeChangeset<order_items::table, M>, M>(_: V) {}
/// check(order_items::quantity.eq(3));
/// check((order_items::quantity.eq(3), Some(order_items::quantity.eq(4))));
/// ```
#[diagnostic::on_unimplemented(
    message = "grant cannot read which columns `{Self}` assigns",
    label = "not a changeset grant can check",
    note = "give `column.eq(value)`, a tuple of them, or a struct with `#[derive(AsChangeset, grant::Changeset)]`"
)]
pub trait ShardSafeChangeset<T, M> {}

impl<V, T> ShardSafeChangeset<T, ByValues> for V
where
    V: Insertable<T>,
    V::Values: FreeOfShardKey,
{
}

/// A changeset that grant checked for shard-key columns. Routed updates wrap their
/// changeset in it when `.set(..)` is called; [`crate::Sharded`] runs no `UPDATE` whose
/// changeset is not `Checked`.
#[derive(Debug, Clone, Copy)]
pub struct Checked<V>(V);

impl<V> Checked<V> {
    /// Wraps `values` once their columns are checked.
    pub(crate) fn new<T, M>(values: V) -> Self
    where
        V: ShardSafeChangeset<T, M>,
    {
        Checked(values)
    }
}

impl<V: AsChangeset> AsChangeset for Checked<V>
where
    V::Target: QuerySource,
{
    type Target = V::Target;
    type Changeset = Checked<V::Changeset>;

    fn as_changeset(self) -> Self::Changeset {
        Checked(self.0.as_changeset())
    }
}

impl<V: QueryFragment<DB>, DB: Backend> QueryFragment<DB> for Checked<V> {
    fn walk_ast<'b>(&'b self, pass: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        self.0.walk_ast(pass)
    }

    fn is_noop(&self, backend: &DB) -> QueryResult<bool> {
        self.0.is_noop(backend)
    }
}

impl<V: QueryId> QueryId for Checked<V> {
    type QueryId = Checked<V::QueryId>;
    const HAS_STATIC_QUERY_ID: bool = V::HAS_STATIC_QUERY_ID;
}

/// The changeset of an `UPDATE` that may run on [`crate::Sharded`]: one grant checked.
#[diagnostic::on_unimplemented(
    message = "grant cannot see which columns this UPDATE assigns: it was given its changeset before its route",
    label = "an UPDATE set with diesel's `.set(..)`",
    note = "route the update first, then set it: `table.update_key(key).set(..)`, or `diesel::update(..).on_shard(..).set(..)`; grant then checks when compiling that no shard-key column is assigned"
)]
pub trait CheckedChangeset {}

impl<V> CheckedChangeset for Checked<V> {}
