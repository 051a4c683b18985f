//! Cycle finding for role inheritance and scope implication.

/// One cycle per strongly connected component that has one, as the nodes along it
/// starting from the component's smallest node (the start is not repeated at the end).
pub fn cycles(adjacency: &[Vec<usize>]) -> Vec<Vec<usize>> {
    components(adjacency)
        .into_iter()
        .filter_map(|component| cycle_in(adjacency, &component))
        .collect()
}

/// Strongly connected components (iterative Tarjan, so deep graphs cannot overflow).
fn components(adjacency: &[Vec<usize>]) -> Vec<Vec<usize>> {
    let count = adjacency.len();
    let mut index = vec![usize::MAX; count];
    let mut low = vec![0; count];
    let mut on_stack = vec![false; count];
    let mut stack = Vec::new();
    let mut next_index = 0;
    let mut found = Vec::new();
    for root in 0..count {
        if index.get(root) != Some(&usize::MAX) {
            continue;
        }
        let mut work = vec![(root, 0usize)];
        while let Some((node, edge)) = work.pop() {
            if edge == 0 {
                set(&mut index, node, next_index);
                set(&mut low, node, next_index);
                next_index += 1;
                stack.push(node);
                set(&mut on_stack, node, true);
            }
            let neighbours = adjacency.get(node).map_or(&[][..], Vec::as_slice);
            if let Some(&next) = neighbours.get(edge) {
                work.push((node, edge + 1));
                if get(&index, next) == usize::MAX {
                    work.push((next, 0));
                } else if get(&on_stack, next) {
                    let lowest = get(&low, node).min(get(&index, next));
                    set(&mut low, node, lowest);
                }
                continue;
            }
            if let Some(&(parent, _)) = work.last() {
                let lowest = get(&low, parent).min(get(&low, node));
                set(&mut low, parent, lowest);
            }
            if get(&low, node) == get(&index, node) {
                let mut component = Vec::new();
                while let Some(member) = stack.pop() {
                    set(&mut on_stack, member, false);
                    component.push(member);
                    if member == node {
                        break;
                    }
                }
                found.push(component);
            }
        }
    }
    found
}

fn get<T: Copy + Default>(values: &[T], at: usize) -> T {
    values.get(at).copied().unwrap_or_default()
}

fn set<T>(values: &mut [T], at: usize, value: T) {
    if let Some(slot) = values.get_mut(at) {
        *slot = value;
    }
}

/// A cycle through the component's smallest node, found by breadth-first search
/// inside the component; `None` for a single node without a self-loop.
fn cycle_in(adjacency: &[Vec<usize>], component: &[usize]) -> Option<Vec<usize>> {
    let start = *component.iter().min()?;
    let mut inside = vec![false; adjacency.len()];
    component
        .iter()
        .for_each(|node| set(&mut inside, *node, true));
    let neighbours = |node: usize| adjacency.get(node).map_or(&[][..], Vec::as_slice);
    let mut previous = vec![usize::MAX; adjacency.len()];
    let mut queue = std::collections::VecDeque::from([start]);
    while let Some(node) = queue.pop_front() {
        for &next in neighbours(node) {
            if next == start {
                return Some(path_back(&previous, start, node));
            }
            if get(&inside, next) && get(&previous, next) == usize::MAX {
                set(&mut previous, next, node);
                queue.push_back(next);
            }
        }
    }
    None
}

fn path_back(previous: &[usize], start: usize, last: usize) -> Vec<usize> {
    let mut path = vec![last];
    let mut node = last;
    while node != start && path.len() <= previous.len() {
        node = get(previous, node);
        path.push(node);
    }
    path.reverse();
    path
}

#[cfg(test)]
mod tests {
    use super::cycles;

    #[test]
    fn finds_each_cycle_once() {
        // 0 -> 1 -> 2 -> 0, 3 -> 3, 4 -> 0
        let graph = vec![vec![1], vec![2], vec![0], vec![3], vec![0]];
        let mut found = cycles(&graph);
        found.sort();
        assert_eq!(found, vec![vec![0, 1, 2], vec![3]]);
    }

    #[test]
    fn acyclic_graphs_have_none() {
        let graph = vec![vec![1, 2], vec![2], vec![]];
        assert!(cycles(&graph).is_empty());
    }

    #[test]
    fn long_chains_do_not_overflow() {
        let mut graph: Vec<Vec<usize>> = (0..100_000).map(|node| vec![node + 1]).collect();
        graph.push(vec![0]);
        assert_eq!(cycles(&graph).len(), 1);
    }
}
