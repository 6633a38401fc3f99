//! One sort for the whole crate.
//!
//! Every `sort_by` or `sort_unstable_by` on another element type, or with another
//! closure, is another copy of the standard library's sort in the Worker's wasm (2 to
//! 3 KiB each). [`sort_by`] orders positions (`usize`) through a `dyn` comparator, so
//! all its callers share a single copy, then moves the items into that order.

use std::cmp::Ordering;

/// Sorts `items` by `compare`, stably: items that compare equal keep their order.
pub fn sort_by<T>(items: &mut Vec<T>, mut compare: impl FnMut(&T, &T) -> Ordering) {
    if items.len() < 2 {
        return;
    }
    let mut order: Vec<usize> = (0..items.len()).collect();
    {
        let items: &[T] = items;
        // The position breaks ties, which makes the unstable sort stable.
        let compare: &mut dyn FnMut(&usize, &usize) -> Ordering =
            &mut |&a, &b| compare(&items[a], &items[b]).then(a.cmp(&b));
        order.sort_unstable_by(compare);
    }
    let mut slots: Vec<Option<T>> = std::mem::take(items).into_iter().map(Some).collect();
    items.extend(order.into_iter().filter_map(|position| slots[position].take()));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_and_keeps_equal_items_in_order() {
        let mut items = vec![(3, 'a'), (1, 'b'), (2, 'c'), (1, 'd'), (3, 'e'), (0, 'f')];
        sort_by(&mut items, |a, b| a.0.cmp(&b.0));
        assert_eq!(items, [(0, 'f'), (1, 'b'), (1, 'd'), (2, 'c'), (3, 'a'), (3, 'e')]);
    }

    #[test]
    fn agrees_with_the_standard_stable_sort() {
        let mut seed = 0x2545_f491_u64;
        let mut items: Vec<(u8, u32)> = (0..500)
            .map(|i| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                ((seed % 17) as u8, i)
            })
            .collect();
        let mut expected = items.clone();
        expected.sort_by_key(|item| item.0);
        sort_by(&mut items, |a, b| a.0.cmp(&b.0));
        assert_eq!(items, expected);
    }

    #[test]
    fn takes_empty_and_single_lists() {
        let mut empty: Vec<String> = Vec::new();
        sort_by(&mut empty, |a, b| a.cmp(b));
        assert!(empty.is_empty());
        let mut one = vec!["x".to_owned()];
        sort_by(&mut one, |a, b| a.cmp(b));
        assert_eq!(one, ["x"]);
    }
}
