//! Children and parents: a child's parent key, the children of one or many parents, and
//! children grouped under their parents.

use super::{ColumnsIn, ForeignKey, ReadColumns};
use crate::key::{CompositeKey, KeyOf, Keyed, KeyedTable};
use diesel::dsl::Filter;
use diesel::query_dsl::methods::FilterDsl;
use std::collections::HashMap;

/// A child record's reference to its parent of table `P`: the parent's key, read from the
/// child's foreign-key columns. Implemented for every [`Keyed`] record whose table has a
/// [`ForeignKey`] to `P` and whose fields hold the foreign-key columns (non-null).
///
/// ```
/// # use grant::__doc_schema::{order_items, Shipment};
/// use grant::assoc::BelongsTo;
/// let s = Shipment { order_id: 1, product_id: 2, shipment_id: 1, carrier: "ups".into() };
/// assert_eq!(BelongsTo::<order_items::table>::parent_key(&s), order_items::Key { order_id: 1, product_id: 2 });
/// ```
pub trait BelongsTo<P: KeyedTable>: Keyed {
    /// The parent's key.
    fn parent_key(&self) -> P::Key;
}

impl<R, P> BelongsTo<P> for R
where
    R: Keyed,
    P: KeyedTable,
    R::Table: ForeignKey<P>,
    R: ReadColumns<<R::Table as ForeignKey<P>>::Columns, Values = <P::Key as CompositeKey>::Tuple>,
{
    fn parent_key(&self) -> P::Key {
        P::Key::from_tuple(self.read_columns())
    }
}

/// The children of one parent record (`&parent`), of a parent's full key (`&parent_key`), or
/// of many parents (`&[parents]`, `&Vec<..>`, in one statement), as a Diesel statement to
/// refine and run.
///
/// ```
/// # use grant::__doc_schema::{order_items, OrderItem, Shipment};
/// use grant::assoc::BelongingToDsl;
/// let item = OrderItem { order_id: 1, product_id: 2, quantity: 3 };
/// let one = Shipment::belonging_to(&item);
/// let by_key = Shipment::belonging_to(&order_items::Key { order_id: 1, product_id: 2 });
/// let many = Shipment::belonging_to(&[item.clone(), item][..]);
/// # let _ = (one, by_key, many);
/// ```
pub trait BelongingToDsl<Parents> {
    /// The statement.
    type Output;
    /// `SELECT .. FROM child WHERE <foreign key> = <parent key(s)>`.
    fn belonging_to(parents: Parents) -> Self::Output;
}

type FkFilter<C, P> = <<C as Keyed>::Table as ForeignKey<<P as Keyed>::Table>>::Filter;
type FkColumns<C, P> = <<C as Keyed>::Table as ForeignKey<<P as Keyed>::Table>>::Columns;

impl<'a, C, P> BelongingToDsl<&'a P> for C
where
    C: Keyed,
    P: Keyed,
    C::Table: ForeignKey<P::Table> + FilterDsl<FkFilter<C, P>>,
{
    type Output = Filter<C::Table, FkFilter<C, P>>;
    fn belonging_to(parent: &'a P) -> Self::Output {
        C::Table::default().filter(<C::Table as ForeignKey<P::Table>>::filter(parent.key()))
    }
}

impl<'a, C, P> BelongingToDsl<&'a [P]> for C
where
    C: Keyed,
    P: Keyed,
    C::Table: ForeignKey<P::Table> + FilterDsl<ColumnsIn<FkColumns<C, P>, KeyOf<P>>>,
{
    type Output = Filter<C::Table, ColumnsIn<FkColumns<C, P>, KeyOf<P>>>;
    fn belonging_to(parents: &'a [P]) -> Self::Output {
        let mut keys: Vec<KeyOf<P>> = parents.iter().map(Keyed::key).collect();
        keys.sort();
        keys.dedup();
        C::Table::default().filter(ColumnsIn::new(
            <C::Table as ForeignKey<P::Table>>::columns(),
            keys,
        ))
    }
}

impl<'a, C, P> BelongingToDsl<&'a Vec<P>> for C
where
    C: Keyed + BelongingToDsl<&'a [P]>,
    P: Keyed,
{
    type Output = <C as BelongingToDsl<&'a [P]>>::Output;
    fn belonging_to(parents: &'a Vec<P>) -> Self::Output {
        C::belonging_to(parents.as_slice())
    }
}

/// Puts children under their parents: `children.grouped_by(&parents)` gives one `Vec` per
/// parent, in the parents' order (children keep their order). A child whose parent is not
/// in `parents` is left out.
///
/// ```
/// # use grant::__doc_schema::{OrderItem, Shipment};
/// use grant::assoc::GroupedBy;
/// let parents = vec![OrderItem { order_id: 1, product_id: 1, quantity: 0 }, OrderItem { order_id: 2, product_id: 1, quantity: 0 }];
/// let ship = |o, s| Shipment { order_id: o, product_id: 1, shipment_id: s, carrier: "x".into() };
/// let grouped = vec![ship(2, 1), ship(1, 2), ship(2, 3)].grouped_by(&parents);
/// assert_eq!(grouped.iter().map(Vec::len).collect::<Vec<_>>(), [1, 2]);
/// ```
pub trait GroupedBy<P>: Sized {
    /// The child type.
    type Child;
    /// The children of each parent, in the parents' order.
    fn grouped_by(self, parents: &[P]) -> Vec<Vec<Self::Child>>;
}

impl<C, P> GroupedBy<P> for Vec<C>
where
    P: Keyed,
    C: BelongsTo<P::Table>,
{
    type Child = C;
    fn grouped_by(self, parents: &[P]) -> Vec<Vec<C>> {
        let index: HashMap<KeyOf<P>, usize> = parents
            .iter()
            .enumerate()
            .map(|(i, p)| (p.key(), i))
            .collect();
        let mut groups: Vec<Vec<C>> = parents.iter().map(|_| Vec::new()).collect();
        for child in self {
            if let Some(group) = index
                .get(&child.parent_key())
                .and_then(|&i| groups.get_mut(i))
            {
                group.push(child);
            }
        }
        groups
    }
}
