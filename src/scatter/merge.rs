//! The k-way merge: a heap over the shards' already-sorted rows.

use super::order::OrderSpec;
use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::marker::PhantomData;

struct Head<O: OrderSpec, U> {
    values: O::Values,
    row: U,
    shard: usize,
    nulls_largest: bool,
    _order: PhantomData<fn() -> O>,
}

impl<O: OrderSpec, U> Head<O, U> {
    fn order(&self, other: &Self) -> Ordering {
        // Ties between shards go to the lower shard, so the merge is deterministic.
        O::compare(&self.values, &other.values, self.nulls_largest)
            .then(self.shard.cmp(&other.shard))
    }
}

impl<O: OrderSpec, U> PartialEq for Head<O, U> {
    fn eq(&self, other: &Self) -> bool {
        self.order(other) == Ordering::Equal
    }
}

impl<O: OrderSpec, U> Eq for Head<O, U> {}

impl<O: OrderSpec, U> PartialOrd for Head<O, U> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<O: OrderSpec, U> Ord for Head<O, U> {
    fn cmp(&self, other: &Self) -> Ordering {
        // `BinaryHeap` is a max-heap: reverse to pop the smallest first.
        self.order(other).reverse()
    }
}

/// Merges per-shard rows, each list sorted by `O`, into one list sorted by `O`; skips
/// `offset` rows and keeps at most `limit`, each made by `keep` from its sort values and
/// row (so that a caller that does not want the values drops them as it goes instead of
/// holding a second list). O(n log k) for k shards.
pub(crate) fn merge_sorted<O: OrderSpec, U, T>(
    shards: Vec<Vec<(O::Values, U)>>,
    nulls_largest: bool,
    offset: usize,
    limit: Option<usize>,
    mut keep: impl FnMut(O::Values, U) -> T,
) -> Vec<T> {
    let mut iters: Vec<std::vec::IntoIter<(O::Values, U)>> =
        shards.into_iter().map(Vec::into_iter).collect();
    let mut heap = BinaryHeap::with_capacity(iters.len());
    for (shard, it) in iters.iter_mut().enumerate() {
        if let Some((values, row)) = it.next() {
            heap.push(Head::<O, U> {
                values,
                row,
                shard,
                nulls_largest,
                _order: PhantomData,
            });
        }
    }
    let wanted = limit
        .map(|l| offset.saturating_add(l))
        .unwrap_or(usize::MAX);
    let mut out = Vec::new();
    let mut taken = 0usize;
    while taken < wanted {
        let Some(head) = heap.pop() else { break };
        if let Some((values, row)) = iters.get_mut(head.shard).and_then(Iterator::next) {
            heap.push(Head {
                values,
                row,
                shard: head.shard,
                nulls_largest,
                _order: PhantomData,
            });
        }
        if taken >= offset {
            out.push(keep(head.values, head.row));
        }
        taken += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::__doc_schema::order_items::{order_id, quantity};
    use crate::scatter::order::{Asc, Desc};

    #[test]
    fn merges_sorted_streams_with_offset_and_limit() {
        type Spec = (Desc<quantity>, Asc<order_id>);
        let a = vec![((9, 1), "a9"), ((5, 1), "a5"), ((1, 1), "a1")];
        let b = vec![((7, 1), "b7"), ((5, 0), "b5")];
        let merged = merge_sorted::<Spec, _, _>(vec![a, b], false, 1, Some(3), |_, r| r);
        assert_eq!(merged, vec!["b7", "b5", "a5"]);
        let all = merge_sorted::<Spec, _, _>(
            vec![vec![((2, 0), "x")], vec![], vec![((3, 0), "y")]],
            false,
            0,
            None,
            |v, r| (v, r),
        );
        assert_eq!(all, vec![((3, 0), "y"), ((2, 0), "x")]);
    }
}
