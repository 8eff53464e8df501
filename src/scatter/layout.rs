//! Where a shard's rows keep their sort values: decided once per scatter by comparing the
//! SQL the backend renders for the sort expressions and for the selection.

use super::sort_columns::SortColumns;
use diesel::backend::Backend;
use diesel::query_builder::QueryFragment;

/// The most terms an ordering has.
pub(crate) const MAX_TERMS: usize = 4;

/// Where a shard's row keeps its sort values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// The sort expressions are selected in front of the row.
    Prefixed,
    /// The sort values are the row's own fields at these positions; the row has `fields`
    /// fields.
    Within {
        /// The field of each sort term.
        positions: [usize; MAX_TERMS],
        /// How many fields the selection has.
        fields: usize,
    },
}

impl Layout {
    /// [`Layout::Within`] when every sort expression of `exprs` is a column that `selection`
    /// selects, [`Layout::Prefixed`] otherwise. Compares the SQL that backend `DB` renders.
    pub fn find<DB, O, S>(ordering: &O, selection: &S) -> Layout
    where
        DB: Backend,
        O: SortColumns<DB>,
        S: QueryFragment<DB>,
    {
        let (Ok(terms), Ok(selected)) = (O::terms_sql(&ordering.exprs()), O::render(selection))
        else {
            return Layout::Prefixed;
        };
        let items = split_select_list(&selected);
        let mut positions = [0; MAX_TERMS];
        for (i, term) in terms.iter().enumerate() {
            let found = items.iter().position(|item| item == term);
            match (positions.get_mut(i), found) {
                (Some(slot), Some(at)) if is_column(term) => *slot = at,
                _ => return Layout::Prefixed,
            }
        }
        Layout::Within {
            positions,
            fields: items.len(),
        }
    }
}

/// Whether `sql` is a quoted column path as Diesel renders columns (`"t"."c"`, `` `t`.`c` ``):
/// no bind parameter, no function, so that equal text means the same value.
fn is_column(sql: &str) -> bool {
    let mut chars = sql.chars().peekable();
    loop {
        let Some(quote) = chars.next().filter(|c| *c == '"' || *c == '`') else {
            return false;
        };
        loop {
            match chars.next() {
                None => return false,
                Some(c) if c == quote => {
                    if chars.peek() == Some(&quote) {
                        chars.next();
                    } else {
                        break;
                    }
                }
                Some(_) => {}
            }
        }
        match chars.next() {
            None => return true,
            Some('.') => {}
            Some(_) => return false,
        }
    }
}

/// The items of a rendered select list: split at commas outside parentheses and quotes,
/// trimmed.
fn split_select_list(sql: &str) -> Vec<String> {
    let mut items = Vec::new();
    let mut current = String::new();
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    for c in sql.chars() {
        match quote {
            Some(q) => {
                if c == q {
                    quote = None;
                }
            }
            None => match c {
                '"' | '\'' | '`' => quote = Some(c),
                '(' => depth += 1,
                ')' => depth = depth.saturating_sub(1),
                ',' if depth == 0 => {
                    items.push(current.trim().to_owned());
                    current.clear();
                    continue;
                }
                _ => {}
            },
        }
        current.push(c);
    }
    items.push(current.trim().to_owned());
    items
}

#[cfg(test)]
mod tests {
    #[test]
    #[cfg(feature = "sqlite")]
    fn layout_reads_selected_columns() {
        use super::Layout;
        use crate::__doc_schema::{OrderItem, order_items};
        use crate::scatter::{asc, desc};
        use diesel::prelude::*;
        use diesel::sqlite::Sqlite;
        let ordering = (desc(order_items::quantity), asc(order_items::order_id));
        let layout = Layout::find::<Sqlite, _, _>(&ordering, &OrderItem::as_select());
        assert!(matches!(
            layout,
            Layout::Within {
                positions: [2, 0, ..],
                fields: 3
            }
        ));
        let layout = Layout::find::<Sqlite, _, _>(&ordering, &order_items::product_id);
        assert_eq!(layout, Layout::Prefixed);
    }

    use super::*;

    #[test]
    fn column_paths_are_recognised() {
        assert!(is_column(r#""order_items"."quantity""#));
        assert!(is_column("`order_items`.`quantity`"));
        assert!(is_column(r#""we""ird"."c""#));
        assert!(!is_column(r#""order_items"."quantity" * $1"#));
        assert!(!is_column(r#"lower("t"."name")"#));
        assert!(!is_column("?"));
        assert!(!is_column(""));
    }

    #[test]
    fn select_lists_split_at_top_level_commas() {
        assert_eq!(
            split_select_list(r#""t"."a", coalesce("t"."b", 'x,y'), "t"."c""#),
            [r#""t"."a""#, r#"coalesce("t"."b", 'x,y')"#, r#""t"."c""#]
        );
    }
}
