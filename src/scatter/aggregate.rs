//! Aggregates across shards, pushed down and merged exactly: `COUNT` and `SUM` add up,
//! `MIN`/`MAX` take the extreme, and `AVG` is pushed down as `SUM` and `COUNT` (never an
//! average of averages).

use super::value::{AvgInput, AvgRounding, NullOrdering, SortSql, SortValue};
use crate::{Error, Result};
use bigdecimal::{BigDecimal, ToPrimitive};
use diesel::Expression;
use diesel::dsl::CountStar;
use diesel::sql_types::{Foldable, IntoNullable, SingleValue, SqlOrd, SqlType};
use std::cmp::Ordering;

/// An aggregate (or a tuple of up to six) that a scatter query pushes down to every shard
/// and merges.
pub trait Aggregate: Clone + Send + Sync + 'static {
    /// What each shard selects.
    type Exprs: Clone + Send + Sync + 'static;
    /// What each shard returns.
    type Partial: Send + 'static;
    /// The merged result.
    type Output: Send + 'static;
    /// The per-shard expressions.
    fn exprs(&self) -> Self::Exprs;
    /// Merges the shards' partial results, by the rules of backend `Db`.
    fn merge<Db: NullOrdering + AvgRounding>(partials: Vec<Self::Partial>) -> Result<Self::Output>;
}

/// A sum that merges: the sum of per-shard sums.
pub trait Summable: SortValue {
    /// `self + other`, or why it overflowed.
    fn add(self, other: Self) -> std::result::Result<Self, String>;
    /// The value as a float (for averages).
    fn to_f64(&self) -> f64;
    /// The value as an exact decimal, when it is exact (integers, decimals).
    fn to_decimal(&self) -> Option<BigDecimal>;
}

impl Summable for i64 {
    fn add(self, other: Self) -> std::result::Result<Self, String> {
        self.checked_add(other)
            .ok_or_else(|| format!("{self} + {other} overflows a BIGINT"))
    }
    fn to_f64(&self) -> f64 {
        *self as f64
    }
    fn to_decimal(&self) -> Option<BigDecimal> {
        Some(BigDecimal::from(*self))
    }
}

impl Summable for u64 {
    fn add(self, other: Self) -> std::result::Result<Self, String> {
        self.checked_add(other)
            .ok_or_else(|| format!("{self} + {other} overflows an unsigned BIGINT"))
    }
    fn to_f64(&self) -> f64 {
        *self as f64
    }
    fn to_decimal(&self) -> Option<BigDecimal> {
        Some(BigDecimal::from(*self))
    }
}

impl Summable for f64 {
    fn to_decimal(&self) -> Option<BigDecimal> {
        None
    }
    fn add(self, other: Self) -> std::result::Result<Self, String> {
        Ok(self + other)
    }
    fn to_f64(&self) -> f64 {
        *self
    }
}

impl Summable for f32 {
    fn to_decimal(&self) -> Option<BigDecimal> {
        None
    }
    fn add(self, other: Self) -> std::result::Result<Self, String> {
        Ok(self + other)
    }
    fn to_f64(&self) -> f64 {
        f64::from(*self)
    }
}

impl Summable for BigDecimal {
    fn to_decimal(&self) -> Option<BigDecimal> {
        Some(self.clone())
    }
    fn add(self, other: Self) -> std::result::Result<Self, String> {
        Ok(self + other)
    }
    fn to_f64(&self) -> f64 {
        ToPrimitive::to_f64(self).unwrap_or(f64::NAN)
    }
}

/// `NULL` (`None`) is the sum of nothing: `SUM` over no rows, or over only `NULL`s.
impl<T: Summable> Summable for Option<T> {
    fn add(self, other: Self) -> std::result::Result<Self, String> {
        match (self, other) {
            (Some(a), Some(b)) => a.add(b).map(Some),
            (a, None) => Ok(a),
            (None, b) => Ok(b),
        }
    }
    fn to_f64(&self) -> f64 {
        self.as_ref().map_or(f64::NAN, Summable::to_f64)
    }
    fn to_decimal(&self) -> Option<BigDecimal> {
        self.as_ref().and_then(Summable::to_decimal)
    }
}

/// `COUNT(*)`.
#[derive(Debug, Clone, Copy)]
pub struct CountAll;
/// `COUNT(expr)`: the non-null values.
#[derive(Debug, Clone, Copy)]
pub struct Count<E>(pub E);
/// `SUM(expr)`.
#[derive(Debug, Clone, Copy)]
pub struct Sum<E>(pub E);
/// `MIN(expr)`.
#[derive(Debug, Clone, Copy)]
pub struct Min<E>(pub E);
/// `MAX(expr)`.
#[derive(Debug, Clone, Copy)]
pub struct Max<E>(pub E);
/// `AVG(expr)`, as `SUM(expr) / COUNT(expr)` over every shard, in `f64`.
#[derive(Debug, Clone, Copy)]
pub struct Avg<E>(pub E);
/// `AVG(expr)` as an exact decimal: `SUM(expr) / COUNT(expr)` over every shard.
#[derive(Debug, Clone, Copy)]
pub struct AvgExact<E>(pub E);

/// `COUNT(*)` across shards.
///
/// ```
/// # use grant::__doc_schema::order_items;
/// use grant::scatter::agg;
/// let aggregates = (agg::count_star(), agg::sum(order_items::quantity), agg::avg(order_items::quantity));
/// # let _ = aggregates;
/// ```
pub fn count_star() -> CountAll {
    CountAll
}

/// `COUNT(expr)` across shards.
pub fn count<E: Expression>(expr: E) -> Count<E> {
    Count(expr)
}

/// `SUM(expr)` across shards.
pub fn sum<E: Expression>(expr: E) -> Sum<E> {
    Sum(expr)
}

/// `MIN(expr)` across shards.
pub fn min<E: Expression>(expr: E) -> Min<E> {
    Min(expr)
}

/// `MAX(expr)` across shards.
pub fn max<E: Expression>(expr: E) -> Max<E> {
    Max(expr)
}

/// `AVG(expr)` across shards: pushed down as `SUM` and `COUNT`, divided once at the end,
/// as an `f64`. Where the backend rounds `AVG` to a scale (MySQL and MariaDB: the input's
/// scale + 4), the quotient is rounded the same way first, so that it equals the backend's
/// own `AVG` printed as a float; for the exact value use [`avg_exact`].
pub fn avg<E: Expression>(expr: E) -> Avg<E> {
    Avg(expr)
}

/// `AVG(expr)` across shards as a `BigDecimal`: the merged `SUM` divided by the merged
/// `COUNT`, not rounded to any backend's scale (exact when the quotient is a finite decimal,
/// otherwise to 100 significant digits, `bigdecimal`'s division precision). `None` when no
/// row has a value. For float columns the sum is a float before the division.
///
/// ```
/// # use grant::__doc_schema::{order_items, OrderItem, two_sqlite_shards};
/// use bigdecimal::BigDecimal;
/// use grant::scatter::agg;
/// use std::str::FromStr;
/// # #[tokio::main]
/// # async fn main() -> grant::Result<()> {
/// # let (shards, _dir) = two_sqlite_shards().await;
/// let items: Vec<OrderItem> = [1, 2, 2, 3].iter().enumerate().map(|(o, q)| OrderItem { order_id: o as i64, product_id: 1, quantity: *q }).collect();
/// shards.insert_all(&items).await?;
/// let exact = shards.scatter(order_items::table).aggregate(agg::avg_exact(order_items::quantity)).await?;
/// assert_eq!(exact, Some(BigDecimal::from_str("2").unwrap()));
/// # Ok(())
/// # }
/// ```
pub fn avg_exact<E: Expression>(expr: E) -> AvgExact<E> {
    AvgExact(expr)
}

fn add_counts(partials: Vec<i64>) -> Result<i64> {
    partials.into_iter().try_fold(0i64, |total, n| {
        total
            .checked_add(n)
            .ok_or_else(|| Error::AggregateOverflow {
                aggregate: "count",
                reason: "the count overflows a BIGINT".into(),
            })
    })
}

/// A query over no shard has nothing to merge.
fn no_shards() -> Error {
    Error::Config(crate::config::ConfigError::NoShards)
}

fn add_sums<V: Summable>(aggregate: &'static str, partials: Vec<V>) -> Result<V> {
    let mut partials = partials.into_iter();
    let first = partials.next().ok_or_else(no_shards)?;
    partials.try_fold(first, |total, v| {
        total
            .add(v)
            .map_err(|reason| Error::AggregateOverflow { aggregate, reason })
    })
}

/// The merged `SUM` and `COUNT` of an average's partials; `None` when no row had a value.
fn sum_and_count<V: Summable>(
    aggregate: &'static str,
    partials: Vec<(V, i64)>,
) -> Result<Option<(V, i64)>> {
    let (sums, counts): (Vec<_>, Vec<_>) = partials.into_iter().unzip();
    let count = add_counts(counts)?;
    let sum = add_sums(aggregate, sums)?;
    Ok((count != 0).then_some((sum, count)))
}

/// The value of `SUM(expr)` (nullable: `Option<..>`).
type SumValue<E> = <<<E as Expression>::SqlType as Foldable>::Sum as SortSql>::Value;
/// The value of `MIN(expr)` / `MAX(expr)` (nullable: `Option<..>`).
type ExtremeValue<E> = <<<E as Expression>::SqlType as IntoNullable>::Nullable as SortSql>::Value;

impl Aggregate for CountAll {
    type Exprs = CountStar;
    type Partial = i64;
    type Output = i64;
    fn exprs(&self) -> CountStar {
        diesel::dsl::count_star()
    }
    fn merge<Db: NullOrdering + AvgRounding>(partials: Vec<i64>) -> Result<i64> {
        add_counts(partials)
    }
}

impl<E> Aggregate for Count<E>
where
    E: Expression + Clone + Send + Sync + 'static,
    E::SqlType: SqlType + SingleValue,
    diesel::dsl::count<E>: Clone + Send + Sync + 'static,
{
    type Exprs = diesel::dsl::count<E>;
    type Partial = i64;
    type Output = i64;
    fn exprs(&self) -> Self::Exprs {
        diesel::dsl::count(self.0.clone())
    }
    fn merge<Db: NullOrdering + AvgRounding>(partials: Vec<i64>) -> Result<i64> {
        add_counts(partials)
    }
}

impl<E> Aggregate for Sum<E>
where
    E: Expression + Clone + Send + Sync + 'static,
    E::SqlType: Foldable,
    <E::SqlType as Foldable>::Sum: SortSql,
    SumValue<E>: Summable,
    diesel::helper_types::sum<E>: Clone + Send + Sync + 'static,
{
    type Exprs = diesel::helper_types::sum<E>;
    type Partial = SumValue<E>;
    type Output = SumValue<E>;
    fn exprs(&self) -> Self::Exprs {
        diesel::dsl::sum(self.0.clone())
    }
    fn merge<Db: NullOrdering + AvgRounding>(partials: Vec<Self::Partial>) -> Result<Self::Output> {
        add_sums("sum", partials)
    }
}

/// The least (`keep = Less`) or greatest non-null partial; `NULL` when every shard had
/// `NULL` (no rows).
fn extreme<V: SortValue>(partials: Vec<V>, keep: Ordering) -> Result<V> {
    let mut partials = partials.into_iter();
    let first = partials.next().ok_or_else(no_shards)?;
    Ok(partials.fold(first, |best, v| {
        let better = !v.is_null() && (best.is_null() || v.cmp_sql(&best, false) == keep);
        if better { v } else { best }
    }))
}

impl<E> Aggregate for Min<E>
where
    E: Expression + Clone + Send + Sync + 'static,
    E::SqlType: SqlOrd + IntoNullable + SingleValue,
    <E::SqlType as IntoNullable>::Nullable: SqlType + SingleValue + SortSql,
    diesel::helper_types::min<E>: Clone + Send + Sync + 'static,
{
    type Exprs = diesel::helper_types::min<E>;
    type Partial = ExtremeValue<E>;
    type Output = ExtremeValue<E>;
    fn exprs(&self) -> Self::Exprs {
        diesel::dsl::min(self.0.clone())
    }
    fn merge<Db: NullOrdering + AvgRounding>(partials: Vec<Self::Partial>) -> Result<Self::Output> {
        extreme(partials, Ordering::Less)
    }
}

impl<E> Aggregate for Max<E>
where
    E: Expression + Clone + Send + Sync + 'static,
    E::SqlType: SqlOrd + IntoNullable + SingleValue,
    <E::SqlType as IntoNullable>::Nullable: SqlType + SingleValue + SortSql,
    diesel::helper_types::max<E>: Clone + Send + Sync + 'static,
{
    type Exprs = diesel::helper_types::max<E>;
    type Partial = ExtremeValue<E>;
    type Output = ExtremeValue<E>;
    fn exprs(&self) -> Self::Exprs {
        diesel::dsl::max(self.0.clone())
    }
    fn merge<Db: NullOrdering + AvgRounding>(partials: Vec<Self::Partial>) -> Result<Self::Output> {
        extreme(partials, Ordering::Greater)
    }
}

impl<E> Aggregate for Avg<E>
where
    E: Expression + Clone + Send + Sync + 'static,
    E::SqlType: Foldable + SqlType + SingleValue + AvgInput,
    <E::SqlType as Foldable>::Sum: SortSql,
    SumValue<E>: Summable,
    diesel::helper_types::sum<E>: Clone + Send + Sync + 'static,
    diesel::dsl::count<E>: Clone + Send + Sync + 'static,
{
    type Exprs = (diesel::helper_types::sum<E>, diesel::dsl::count<E>);
    type Partial = (SumValue<E>, i64);
    type Output = Option<f64>;
    fn exprs(&self) -> Self::Exprs {
        (
            diesel::dsl::sum(self.0.clone()),
            diesel::dsl::count(self.0.clone()),
        )
    }
    fn merge<Db: NullOrdering + AvgRounding>(partials: Vec<Self::Partial>) -> Result<Option<f64>> {
        let Some((sum, count)) = sum_and_count("avg", partials)? else {
            return Ok(None);
        };
        // Divide exactly and round as the backend rounds, when both are known.
        let rounded = <E::SqlType as AvgInput>::SCALE
            .and_then(Db::avg_scale)
            .zip(sum.to_decimal())
            .and_then(|(scale, total)| {
                let avg = total / BigDecimal::from(count);
                ToPrimitive::to_f64(
                    &avg.with_scale_round(i64::from(scale), bigdecimal::RoundingMode::HalfUp),
                )
            });
        Ok(Some(rounded.unwrap_or_else(|| sum.to_f64() / count as f64)))
    }
}

impl<E> Aggregate for AvgExact<E>
where
    E: Expression + Clone + Send + Sync + 'static,
    E::SqlType: Foldable + SqlType + SingleValue,
    <E::SqlType as Foldable>::Sum: SortSql,
    SumValue<E>: Summable,
    diesel::helper_types::sum<E>: Clone + Send + Sync + 'static,
    diesel::dsl::count<E>: Clone + Send + Sync + 'static,
{
    type Exprs = (diesel::helper_types::sum<E>, diesel::dsl::count<E>);
    type Partial = (SumValue<E>, i64);
    type Output = Option<BigDecimal>;
    fn exprs(&self) -> Self::Exprs {
        (
            diesel::dsl::sum(self.0.clone()),
            diesel::dsl::count(self.0.clone()),
        )
    }
    fn merge<Db: NullOrdering + AvgRounding>(
        partials: Vec<Self::Partial>,
    ) -> Result<Option<BigDecimal>> {
        let Some((sum, count)) = sum_and_count("avg_exact", partials)? else {
            return Ok(None);
        };
        let total = match sum.to_decimal() {
            Some(total) => total,
            None => BigDecimal::try_from(sum.to_f64()).map_err(|e| Error::AggregateOverflow {
                aggregate: "avg_exact",
                reason: format!("the sum {} is not a finite number: {e}", sum.to_f64()),
            })?,
        };
        Ok(Some((total / BigDecimal::from(count)).normalized()))
    }
}

macro_rules! tuple_aggregate {
    ($($t:ident $v:ident $i:tt),+) => {
        impl<$($t: Aggregate),+> Aggregate for ($($t,)+) {
            type Exprs = ($($t::Exprs,)+);
            type Partial = ($($t::Partial,)+);
            type Output = ($($t::Output,)+);
            fn exprs(&self) -> Self::Exprs {
                ($(self.$i.exprs(),)+)
            }
            fn merge<Db: NullOrdering + AvgRounding>(partials: Vec<Self::Partial>) -> Result<Self::Output> {
                $( let mut $v = Vec::with_capacity(partials.len()); )+
                for partial in partials {
                    $( $v.push(partial.$i); )+
                }
                Ok(($($t::merge::<Db>($v)?,)+))
            }
        }
    };
}

tuple_aggregate!(A a 0);
tuple_aggregate!(A a 0, B b 1);
tuple_aggregate!(A a 0, B b 1, C c 2);
tuple_aggregate!(A a 0, B b 1, C c 2, D d 3);
tuple_aggregate!(A a 0, B b 1, C c 2, D d 3, E e 4);
tuple_aggregate!(A a 0, B b 1, C c 2, D d 3, E e 4, F f 5);
