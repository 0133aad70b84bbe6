/// The records of a few lines of CSV that this tool wrote itself (COPY … WITH (FORMAT csv)):
/// fields separated by commas, quoted with doubled quotes inside. For turning an export's rows
/// into cells of a workbook as they stream.
public enum CSVLine {
    public static func records(_ bytes: [UInt8]) -> [[String]] {
        var records: [[String]] = []
        var fields: [String] = []
        var field: [UInt8] = []
        var quoted = false
        var index = 0
        var any = false
        while index < bytes.count {
            let byte = bytes[index]
            if quoted {
                if byte == 0x22 {
                    if index + 1 < bytes.count && bytes[index + 1] == 0x22 {
                        field.append(0x22)
                        index += 1
                    } else {
                        quoted = false
                    }
                } else {
                    field.append(byte)
                }
            } else if byte == 0x22 {
                quoted = true
                any = true
            } else if byte == 0x2C {
                fields.append(String(decoding: field, as: UTF8.self))
                field.removeAll(keepingCapacity: true)
                any = true
            } else if byte == 0x0A || byte == 0x0D {
                if any || !field.isEmpty {
                    fields.append(String(decoding: field, as: UTF8.self))
                    records.append(fields)
                }
                fields = []
                field.removeAll(keepingCapacity: true)
                any = false
            } else {
                field.append(byte)
                any = true
            }
            index += 1
        }
        if any || !field.isEmpty {
            fields.append(String(decoding: field, as: UTF8.self))
            records.append(fields)
        }
        return records
    }
}
