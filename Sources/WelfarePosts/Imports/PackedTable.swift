/// Values by a packed key (a resident ID or village code as a number, `PersonImport.packed`):
/// open addressing, linear probing, multiply-shift hashing with an odd multiplier drawn at random
/// for each table (so no file can be made to collide its keys in every run). The person import's
/// direct path looks a key up two or three times a row; `Dictionary`'s SipHash and growing cost
/// more there than the lookups themselves. Not for a key of `UInt64.max` (no packed key is one).
/// Read from two threads only once no one writes to it.
final class PackedTable<Value>: @unchecked Sendable {
    private var keys: UnsafeMutablePointer<UInt64>
    private var values: UnsafeMutablePointer<Value>
    private var mask: Int
    private var shift: UInt64
    private let multiplier: UInt64
    private let empty: Value
    private(set) var count = 0

    /// A table for about `expected` keys before it grows; `empty` fills the free slots.
    init(expected: Int, empty: Value) {
        var generator = SystemRandomNumberGenerator()
        multiplier = generator.next() | 1
        self.empty = empty
        var capacity = 16
        while capacity < expected * 2 { capacity <<= 1 }
        mask = capacity - 1
        shift = UInt64(64 - capacity.trailingZeroBitCount)
        keys = .allocate(capacity: capacity)
        keys.initialize(repeating: .max, count: capacity)
        values = .allocate(capacity: capacity)
        values.initialize(repeating: empty, count: capacity)
    }

    deinit {
        keys.deallocate()
        values.deinitialize(count: mask + 1)
        values.deallocate()
    }

    /// The slot holding `key`, or the free slot where it would go.
    @inline(__always) private func slot(_ key: UInt64) -> Int {
        var index = Int(truncatingIfNeeded: (key &* multiplier) >> shift)
        while true {
            let found = keys[index]
            if found == key || found == .max { return index }
            index = (index + 1) & mask
        }
    }

    var isEmpty: Bool { count == 0 }

    subscript(key: UInt64) -> Value? {
        guard key != .max else { return nil }
        let index = slot(key)
        return keys[index] == key ? values[index] : nil
    }

    func contains(_ key: UInt64) -> Bool { key != .max && keys[slot(key)] == key }

    /// Sets `key`'s value.
    func set(_ key: UInt64, _ value: Value) {
        precondition(key != .max, "no packed key is UInt64.max")
        if (count + 1) * 2 > mask + 1 { grow() }
        let index = slot(key)
        if keys[index] != key {
            keys[index] = key
            count += 1
        }
        values[index] = value
    }

    /// The value of `key` when it has one; else sets it to `value` and returns nil.
    func valueOrSet(_ key: UInt64, _ value: Value) -> Value? {
        precondition(key != .max, "no packed key is UInt64.max")
        if (count + 1) * 2 > mask + 1 { grow() }
        let index = slot(key)
        if keys[index] == key { return values[index] }
        keys[index] = key
        values[index] = value
        count += 1
        return nil
    }

    private func grow() {
        let oldKeys = keys, oldValues = values, oldCapacity = mask + 1
        let capacity = oldCapacity * 2
        mask = capacity - 1
        shift -= 1
        keys = .allocate(capacity: capacity)
        keys.initialize(repeating: .max, count: capacity)
        values = .allocate(capacity: capacity)
        values.initialize(repeating: empty, count: capacity)
        for index in 0..<oldCapacity where oldKeys[index] != .max {
            let to = slot(oldKeys[index])
            keys[to] = oldKeys[index]
            values[to] = oldValues[index]
        }
        oldKeys.deallocate()
        oldValues.deinitialize(count: oldCapacity)
        oldValues.deallocate()
    }
}
