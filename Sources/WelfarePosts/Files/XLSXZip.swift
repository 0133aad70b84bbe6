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
            precondition(!done, "add after finish")
            guard !bytes.isEmpty else { return }
            try bytes.withUnsafeBufferPointer { input in
                entry.crc = UInt32(crc32(UInt(entry.crc), input.baseAddress, UInt32(input.count)))
                entry.uncompressedSize += UInt64(input.count)
                stream.pointee.next_in = UnsafeMutablePointer(mutating: input.baseAddress)
                stream.pointee.avail_in = UInt32(input.count)
                try run(Z_NO_FLUSH)
                stream.pointee.next_in = nil
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
