#if canImport(CZlib)
import CZlib
#elseif canImport(zlib)
import zlib
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The zip container of a workbook (`XLSXWriter`): parts deflated by the system zlib (the
/// library ZIPFoundation links, through its system-library module) at its fastest level as
/// they come, then laid out as a plain zip — local header with CRC and sizes, the deflated
/// bytes, the central directory. No ZIP64: a part or the whole zip past 4 GiB is refused
/// (a sheet of Excel's most rows, 1,048,576, is well under that).
enum XLSXZip {
    /// A finished part: its deflated bytes in the file at `path`.
    struct Entry {
        var name: String
        var path: String
        var crc: UInt32 = 0
        var compressedSize: UInt64 = 0
        var uncompressedSize: UInt64 = 0
    }

    static func failure(_ detail: String) -> AppError {
        AppError.badInput(Text(en: "cannot write the workbook: \(detail)", zh: "无法写入工作簿：\(detail)"), code: "BAD_OUTPUT")
    }

    static func failure(errno error: Int32) -> AppError { failure(String(cString: strerror(error))) }

    /// Deflates what it is given (raw deflate, as zip holds it) into a new file, counting the
    /// CRC-32 and both sizes.
    final class DeflatingFile {
        private var entry: Entry
        private var file: UnsafeMutablePointer<FILE>?
        /// zlib keeps a pointer to its stream: the stream never moves.
        private let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        private var output = [UInt8](repeating: 0, count: 1 << 16)
        private var done = false
        /// Input deflated since the stream was last restarted, the dictionary included.
        private var inStream = 0
        /// The last bytes given (at most `dictionarySize`): the next restart's dictionary.
        private var tail = [UInt8](repeating: 0, count: DeflatingFile.dictionarySize)
        private var tailCount = 0

        /// zlib slides its 32 KiB window (and renumbers every entry of its two hash tables)
        /// each time 32 KiB more have come once the window's 64 KiB are full: at its fastest
        /// level that was 60% of deflating a sheet's XML (callgrind, issue 17). A stream fed at
        /// most 65,274 bytes (two windows less zlib's look-ahead) never slides, so every
        /// 60,000 bytes the stream is flushed to a byte boundary (`Z_SYNC_FLUSH`: its blocks
        /// complete, none final), reset, and given the last 1 KiB as its dictionary: the next
        /// blocks follow in the same raw deflate stream, and their matches reach back at most
        /// into that 1 KiB, which a reader has just inflated (a reader sees one stream of
        /// blocks; only `Z_FINISH` marks the last). A sheet deflates to about 6% more bytes.
        static let streamLimit = 60_000, dictionarySize = 1_024

        init(path: String, entryName: String) throws {
            entry = Entry(name: entryName, path: path)
            guard let opened = fopen(path, "wx") else { throw XLSXZip.failure(errno: errno) }
            file = opened
            stream.initialize(to: z_stream())
            let status = deflateInit2_(stream, Z_BEST_SPEED, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY,
                                       ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
            guard status == Z_OK else {
                fclose(opened)
                file = nil
                stream.deallocate()
                done = true
                throw XLSXZip.failure("zlib \(status)")
            }
        }

        deinit { abandon() }

        /// Closes without finishing (an error elsewhere): the caller's folder is removed.
        func abandon() {
            guard !done else { return }
            done = true
            deflateEnd(stream)
            stream.deallocate()
            if let file { fclose(file) }
            file = nil
        }

        func add(_ bytes: [UInt8]) throws {
            try bytes.withUnsafeBufferPointer { try add($0) }
        }

        func add(_ input: UnsafeBufferPointer<UInt8>) throws {
            precondition(!done, "add after finish")
            guard !input.isEmpty else { return }
            entry.crc = UInt32(crc32(UInt(entry.crc), input.baseAddress, UInt32(input.count)))
            entry.uncompressedSize += UInt64(input.count)
            defer { stream.pointee.next_in = nil }
            var start = 0
            while start < input.count {
                if inStream >= DeflatingFile.streamLimit { try restart() }
                let take = min(DeflatingFile.streamLimit - inStream, input.count - start)
                let piece = UnsafeBufferPointer(rebasing: input[start..<start + take])
                stream.pointee.next_in = UnsafeMutablePointer(mutating: piece.baseAddress)
                stream.pointee.avail_in = UInt32(take)
                try run(Z_NO_FLUSH)
                inStream += take
                keepTail(piece)
                start += take
            }
        }

        /// Ends the blocks so far on a byte boundary and starts the stream again, primed with
        /// the last bytes given (see `streamLimit`).
        private func restart() throws {
            try run(Z_SYNC_FLUSH)
            guard deflateReset(stream) == Z_OK,
                  tail.withUnsafeBufferPointer({ deflateSetDictionary(stream, $0.baseAddress, UInt32(tailCount)) }) == Z_OK
            else { throw XLSXZip.failure("zlib could not restart its stream") }
            inStream = tailCount
        }

        private func keepTail(_ piece: UnsafeBufferPointer<UInt8>) {
            let size = DeflatingFile.dictionarySize
            tail.withUnsafeMutableBufferPointer { kept in
                if piece.count >= size {
                    _ = kept.update(fromContentsOf: piece[(piece.count - size)...])
                    tailCount = size
                } else {
                    // The newest `size` bytes: the end of what was kept, then the piece.
                    let keep = min(tailCount, size - piece.count)
                    let base = kept.baseAddress!
                    memmove(base, base + (tailCount - keep), keep)
                    (base + keep).update(from: piece.baseAddress!, count: piece.count)
                    tailCount = keep + piece.count
                }
            }
        }

        /// Ends the stream and closes the file: the entry, ready to be copied into a zip.
        func finish() throws -> Entry {
            precondition(!done, "finish twice")
            try run(Z_FINISH)
            done = true
            deflateEnd(stream)
            stream.deallocate()
            let closed = fclose(file!)
            file = nil
            guard closed == 0 else { throw XLSXZip.failure(errno: errno) }
            guard entry.uncompressedSize < UInt64(UInt32.max), entry.compressedSize < UInt64(UInt32.max) else {
                throw XLSXZip.failure("a sheet of more than 4 GiB")
            }
            return entry
        }

        private func run(_ flush: Int32) throws {
            let capacity = output.count
            try output.withUnsafeMutableBufferPointer { out in
                repeat {
                    stream.pointee.next_out = out.baseAddress
                    stream.pointee.avail_out = UInt32(capacity)
                    let status = deflate(stream, flush)
                    guard status == Z_OK || status == Z_STREAM_END || status == Z_BUF_ERROR else { throw XLSXZip.failure("zlib \(status)") }
                    let count = capacity - Int(stream.pointee.avail_out)
                    if count > 0 {
                        guard fwrite(out.baseAddress, 1, count, file) == count else { throw XLSXZip.failure(errno: errno) }
                        entry.compressedSize += UInt64(count)
                    }
                    if flush == Z_FINISH { if status == Z_STREAM_END { break } } else if stream.pointee.avail_out != 0 { break }
                } while true
            }
        }
    }

    /// Lays out finished entries as a zip into a `SafeFile`.
    struct Writer {
        let file: SafeFile
        private var offset: UInt64 = 0
        private var central: [UInt8] = []
        private var count = 0
        /// The copying buffer, made once for all the entries.
        private var chunk: [UInt8] = []
        private let dosTime: UInt16, dosDate: UInt16

        init(file: SafeFile) {
            self.file = file
            // The entries' modification time, in MS-DOS form (local time, two-second steps).
            var now = time(nil)
            var parts = tm()
            localtime_r(&now, &parts)
            dosTime = UInt16(parts.tm_hour << 11 | parts.tm_min << 5 | parts.tm_sec / 2)
            dosDate = UInt16(max(parts.tm_year - 80, 0) << 9 | (parts.tm_mon + 1) << 5 | parts.tm_mday)
        }

        private static func put16(_ value: UInt16, _ out: inout [UInt8]) {
            out.append(UInt8(value & 0xFF)); out.append(UInt8(value >> 8))
        }

        private static func put32(_ value: UInt32, _ out: inout [UInt8]) {
            for shift in stride(from: 0, to: 32, by: 8) { out.append(UInt8((value >> UInt32(shift)) & 0xFF)) }
        }

        mutating func add(_ entry: Entry) throws {
            guard offset < UInt64(UInt32.max), count < 0xFFFF else { throw XLSXZip.failure("a workbook of more than 4 GiB") }
            let name = Array(entry.name.utf8)
            // Version 2.0, deflate; bit 11: the name is UTF-8.
            var header: [UInt8] = []
            Writer.put32(0x0403_4B50, &header)
            Writer.put16(20, &header)
            Writer.put16(0x0800, &header)
            Writer.put16(8, &header)
            Writer.put16(dosTime, &header)
            Writer.put16(dosDate, &header)
            Writer.put32(entry.crc, &header)
            Writer.put32(UInt32(entry.compressedSize), &header)
            Writer.put32(UInt32(entry.uncompressedSize), &header)
            Writer.put16(UInt16(name.count), &header)
            Writer.put16(0, &header)
            header += name
            try file.write(header)
            // The central directory's record of it.
            Writer.put32(0x0201_4B50, &central)
            Writer.put16(0x031E, &central) // made by: Unix, 3.0
            central += header[4..<30]
            Writer.put16(0, &central) // comment
            Writer.put16(0, &central) // disk
            Writer.put16(0, &central) // internal attributes
            Writer.put32(UInt32(0o100644) << 16, &central) // a regular file, rw-r--r--
            Writer.put32(UInt32(offset), &central)
            central += name
            // The deflated bytes, as they are.
            guard let part = fopen(entry.path, "r") else { throw XLSXZip.failure(errno: errno) }
            defer { fclose(part) }
            if chunk.isEmpty { chunk = [UInt8](repeating: 0, count: 1 << 20) }
            var copied: UInt64 = 0
            while true {
                let read = chunk.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, part) }
                if read > 0 {
                    try file.write(read == chunk.count ? chunk : Array(chunk[0..<read]))
                    copied += UInt64(read)
                }
                if read < chunk.count {
                    if ferror(part) != 0 { throw XLSXZip.failure(errno: errno) }
                    break
                }
            }
            guard copied == entry.compressedSize else { throw XLSXZip.failure("a part changed while it was copied") }
            offset += UInt64(header.count) + copied
            count += 1
        }

        mutating func finish() throws {
            guard offset + UInt64(central.count) < UInt64(UInt32.max) else { throw XLSXZip.failure("a workbook of more than 4 GiB") }
            var end: [UInt8] = []
            Writer.put32(0x0605_4B50, &end)
            Writer.put16(0, &end)
            Writer.put16(0, &end)
            Writer.put16(UInt16(count), &end)
            Writer.put16(UInt16(count), &end)
            Writer.put32(UInt32(central.count), &end)
            Writer.put32(UInt32(offset), &end)
            Writer.put16(0, &end)
            try file.write(central + end)
        }
    }
}
