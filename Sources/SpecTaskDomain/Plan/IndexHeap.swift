/// A binary min-heap of task indexes, so topological sorting picks the lowest ready index
/// in O(log n) rather than scanning, which matters for plans with thousands of tasks.
struct IndexHeap {
    private var storage: [Int] = []

    init(_ elements: [Int]) {
        for element in elements { insert(element) }
    }

    mutating func insert(_ element: Int) {
        storage.append(element)
        var child = storage.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard storage[child] < storage[parent] else { break }
            storage.swapAt(child, parent)
            child = parent
        }
    }

    mutating func popMin() -> Int? {
        guard let last = storage.popLast() else { return nil }
        guard !storage.isEmpty else { return last }
        let minimum = storage[0]
        storage[0] = last
        var parent = 0
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var smallest = parent
            if left < storage.count, storage[left] < storage[smallest] { smallest = left }
            if right < storage.count, storage[right] < storage[smallest] { smallest = right }
            guard smallest != parent else { return minimum }
            storage.swapAt(parent, smallest)
            parent = smallest
        }
    }
}
