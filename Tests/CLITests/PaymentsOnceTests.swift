import Foundation
import Postgres
import Testing
import TestSupport
import WelfarePosts

/// A payment is recorded once (SPEC §10): however a bank's rows come back — reordered, a subset,
/// a row repeated in one file, from two imports at once — no person is paid twice on paper.
@Suite("payments recorded once")
struct PaymentsOnceTests {
    /// Three people in post, each with a registered account: (id, post, account).
    func paid() throws -> (World, [(String, String, String)]) {
        let world = try World()
        var people: [(String, String, String)] = []
        for year in 1970...1972 {
            let person = try world.person(born: "\(year)-01-01")
            let post = try world.post()
            try world.hire(post, person, "2026-01-01", "2026-12-31")
            let account = try world.connection.query("SELECT bank_account FROM person WHERE id_number = $1", [person.value])[0]["bank_account"]!
            people.append((person.value, post, account))
        }
        return (world, people)
    }

    static let header = "id_number,month,post_id,bank_account,amount,paid_on,reference"

    func history(_ rows: [String]) throws -> String {
        try temporaryFile(([Self.header] + rows).joined(separator: "\n") + "\n")
    }

    func row(_ person: (String, String, String), month: String = "2026-02", amount: String = "1100", on: String = "2026-03-05",
             reference: String = "") -> String {
        "\(person.0),\(month),\(person.1),\(person.2),\(amount),\(on),\(reference)"
    }

    func count(_ world: World) throws -> String {
        try world.connection.query("SELECT count(*) AS n FROM disbursement")[0]["n"] ?? ""
    }

    @Test func reorderedSubsetAndRepeatedRowsAreRefused() throws {
        let (world, people) = try paid()
        let rows = people.map { row($0) }
        let first = try welfarePosts(["disbursement", "import", try history(rows)], on: world.database)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(try count(world) == "3")

        // The same rows in another order: each line names the line it was recorded from.
        let reordered = try welfarePosts(["disbursement", "import", try history(rows.reversed())], on: world.database)
        #expect(reordered.status == 2)
        #expect(reordered.stderr.hasPrefix("error: [ALREADY_IMPORTED]"), "\(reordered.stderr)")
        for (line, earlier) in [(2, 4), (3, 3), (4, 2)] {
            #expect(reordered.stderr.contains("line \(line), column 1 (id_number): this payment (the same person, month, post, account, amount and date) was already recorded from file wp-"),
                    "\(reordered.stderr)")
            #expect(reordered.stderr.contains(".csv, line \(earlier), imported"), "\(reordered.stderr)")
        }
        // A subset, with a new payment beside it: the whole file is refused, the repeat named.
        let subset = try welfarePosts(["disbursement", "import", try history([row(people[1]), row(people[1], month: "2026-03", on: "2026-04-05")])],
                                      on: world.database)
        #expect(subset.status == 2)
        #expect(subset.stderr.contains("line 2, column 1 (id_number)"), "\(subset.stderr)")
        #expect(!subset.stderr.contains("\n  line 3,"), "\(subset.stderr)")
        // A row repeated inside one new file: line 3 and line 4 repeat line 2.
        let march = row(people[0], month: "2026-03", on: "2026-04-05")
        let repeated = try welfarePosts(["disbursement", "import", try history([march, march, march]), "--lang", "zh"], on: world.database)
        #expect(repeated.status == 2)
        #expect(repeated.stderr.hasPrefix("error: [ALREADY_IMPORTED]"), "\(repeated.stderr)")
        #expect(repeated.stderr.contains("第 3 行，第 1 列 (id_number): 该笔发放（相同的人员、月份、岗位、账号、金额和日期）已在本文件第 2 行出现"), "\(repeated.stderr)")
        #expect(repeated.stderr.contains("第 4 行，第 1 列 (id_number)"), "\(repeated.stderr)")
        // The same through reconcile (bank results of one month, no month column).
        let bank = try temporaryFile("身份证号,岗位编号,银行账号,金额,发放日期\n\(people[2].0),\(people[2].1),\(people[2].2),1100,2026-03-05\n")
        let reconcile = try welfarePosts(["payroll", "reconcile", "2026-02", bank], on: world.database)
        #expect(reconcile.status == 2)
        #expect(reconcile.stderr.contains("line 2, column 1 (身份证号)"), "\(reconcile.stderr)")
        // --dry-run tells the same, and nothing of it was written.
        let dry = try welfarePosts(["disbursement", "import", try history(rows), "--dry-run"], on: world.database)
        #expect(dry.status == 2)
        #expect(try count(world) == "3")
        // The audit finds no duplicate payment.
        let audit = try welfarePosts(["audit", "violations", "--rule", "DUPLICATE_PAYMENT", "--as-of", "2026-12-31", "--format", "csv"],
                                     on: world.database)
        #expect(audit.status == 0, "\(audit.stderr)")
        #expect(audit.stdout.split(separator: "\n").count == 1, "\(audit.stdout)")
    }

    @Test func referencesDecideWhenTheBankGivesThem() throws {
        let (world, people) = try paid()
        let p = people[0]
        // Two real payments alike in every field but the bank's reference are two payments.
        let two = try welfarePosts(["disbursement", "import", try history([row(p, reference: "B001"), row(p, reference: "B002")])], on: world.database)
        #expect(two.status == 0, "\(two.stderr)")
        #expect(try count(world) == "2")
        // A known reference again, whatever else differs, is the same payment.
        let sameReference = try welfarePosts(["disbursement", "import", try history([row(p, month: "2026-03", on: "2026-04-05", reference: "B002")])],
                                             on: world.database)
        #expect(sameReference.status == 2)
        #expect(sameReference.stderr.contains("line 2, column 7 (reference): this payment (the same bank reference) was already recorded"),
                "\(sameReference.stderr)")
        // A row without a reference that matches a recorded one is that payment.
        let unreferenced = try welfarePosts(["disbursement", "import", try history([row(p)])], on: world.database)
        #expect(unreferenced.status == 2)
        #expect(unreferenced.stderr.contains("line 2, column 1 (id_number)"), "\(unreferenced.stderr)")
        // Within one file: the same reference twice, and a row without one after a match.
        let within = try welfarePosts(["disbursement", "import", try history([
            row(p, month: "2026-04", on: "2026-05-05", reference: "C001"), row(p, month: "2026-05", on: "2026-06-05", reference: "C001"),
            row(p, month: "2026-04", on: "2026-05-05"),
        ])], on: world.database)
        #expect(within.status == 2)
        #expect(within.stderr.contains("line 3, column 7 (reference): this payment (the same bank reference) is already on line 2"), "\(within.stderr)")
        #expect(within.stderr.contains("line 4, column 1 (id_number): this payment (the same person, month, post, account, amount and date) is already on line 2"),
                "\(within.stderr)")
        // A reference that could be a formula or is not a bank's serial number.
        let bad = try welfarePosts(["disbursement", "import", try history([row(p, month: "2026-06", reference: "=1+1"), row(p, month: "2026-07", reference: "A B")])],
                                   on: world.database)
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("line 2, column 7 (reference)") && bad.stderr.contains("line 3, column 7 (reference)"), "\(bad.stderr)")
        #expect(try count(world) == "2")
    }

    /// Two imports of the same payments at the same moment: one records them, the other is refused.
    @Test func twoImportsAtOnceRecordOnce() throws {
        let (world, people) = try paid()
        let file = try history(people.map { row($0) })
        let results = Results()
        let database = world.database
        DispatchQueue.concurrentPerform(iterations: 2) { _ in
            results.add(Result { try welfarePosts(["disbursement", "import", file], on: database) })
        }
        let finished = try results.all.map { try $0.get() }
        #expect(finished.map(\.status).sorted() == [0, 2], "\(finished.map(\.stderr))")
        #expect(try count(world) == "3")
    }

    /// The database keeps the rule against a writer other than the tool, and the bounds too.
    @Test func theDatabaseRefusesARepeatFromPsql() throws {
        let (world, people) = try paid()
        let db = world.connection
        let first = try welfarePosts(["disbursement", "import", try history([row(people[0]), row(people[1], reference: "R9")])], on: world.database)
        #expect(first.status == 0, "\(first.stderr)")
        let insert = """
            INSERT INTO disbursement (county_code, file_id, line, id_number, month, post_id, bank_account, amount_fen, paid_on, reference)
            SELECT county_code, file_id, 99, id_number, month, post_id, bank_account, amount_fen, paid_on + $3::int, $2
            FROM disbursement WHERE id_number = $1
            """
        // Without a reference: the same six fields. With one: the same reference on another day.
        for (person, reference, shift, constraint) in [(people[0].0, nil as String?, 0, "disbursement_payment_once"),
                                                       (people[1].0, "R9", 1, "disbursement_reference_once")] {
            do {
                try db.command(insert, [person, reference, shift])
                Issue.record("a repeated payment was inserted")
            } catch let error as PostgresError {
                #expect(error.constraintName == constraint, "\(error.message)")
                #expect(AppError(error).code == "ALREADY_IMPORTED")
            }
        }
        do {
            try db.command("UPDATE disbursement SET amount_fen = 9223372036854775807 WHERE id_number = $1", [people[0].0])
            Issue.record("an amount out of bounds was stored")
        } catch let error as PostgresError {
            #expect(error.constraintName == "disbursement_amount_bounds")
        }
        do {
            try db.command("UPDATE pay_standard SET monthly_fen = 1000000000000")
            Issue.record("a standard out of bounds was stored")
        } catch let error as PostgresError {
            #expect(error.constraintName == "pay_standard_bounds")
        }
    }

    /// A database that recorded the same payment twice before sql/0015 migrates: both rows are
    /// kept (the audit reports them), the later one marked, and the rule holds from then on.
    @Test func earlierRepeatsSurviveTheMigration() throws {
        let database = try TestDatabase(migrated: false)
        let db = try database.connect()
        try Migrator(connection: db).migrate(through: "0015")
        try Fixtures.regions(db)
        let id = residentID(born: "1970-01-01", sequence: 1)
        try db.command("""
            INSERT INTO person (county_code, id_number, name, household_id, village_code, category, labour_capacity, bank_account)
            VALUES ('320321', $1, '王秀英', 'H1', $2, 'poverty-alleviated', 'weak', '6228480312345678')
            """, [id, Fixtures.villageA1])
        for sha in ["a", "b"] {
            let file = try db.query("INSERT INTO disbursement_file (sha256, source, rows) VALUES ($1, 'history', 1) RETURNING id", [sha])[0]["id"]!
            try db.command("""
                INSERT INTO disbursement (county_code, file_id, line, id_number, month, bank_account, amount_fen, paid_on)
                VALUES ('320321', $1::bigint, 2, $2, '2026-02-01', '6228480312345678', 110000, '2026-03-05')
                """, [file, id])
        }
        try Migrator(connection: db).migrate()
        let rows = try db.query("SELECT legacy_duplicate FROM disbursement ORDER BY id").map { $0["legacy_duplicate"] ?? "" }
        #expect(rows == ["f", "t"])
        let again = try welfarePosts(["disbursement", "import", try history(["\(id),2026-02,,6228480312345678,1100,2026-03-05,"])], on: database)
        #expect(again.status == 2)
        #expect(again.stderr.hasPrefix("error: [ALREADY_IMPORTED]"), "\(again.stderr)")
    }

    /// Names that psql stored starting with a formula character reach finance's CSV as text.
    @Test func exportNeutralisesFormulas() throws {
        let (world, people) = try paid()
        let db = world.connection
        let names = ["=HYPERLINK(\"http://x\",\"点击\")", "@SUM(A1)", "-2+3+cmd|' /C calc'!A0"]
        for (person, name) in zip(people, names) {
            try db.command("UPDATE person SET name = $1 WHERE id_number = $2", [name, person.0])
        }
        _ = try Payroll.run(db, month: Month(iso: "2026-02")!, region: nil)
        _ = try Payroll.approve(db, month: Month(iso: "2026-02")!, region: Fixtures.county)
        for lang in ["en", "zh"] {
            let export = try welfarePosts(["payroll", "export", "2026-02", "--lang", lang], on: world.database)
            #expect(export.status == 0, "\(export.stderr)")
            #expect(export.stdout.contains(",\"'=HYPERLINK(\"\"http://x\"\",\"\"点击\"\")\","), "\(export.stdout)")
            #expect(export.stdout.contains(",'@SUM(A1),"), "\(export.stdout)")
            #expect(export.stdout.contains(",'-2+3+cmd|' /C calc'!A0,"), "\(export.stdout)")
            #expect(!export.stdout.contains(",=") && !export.stdout.contains(",@") && !export.stdout.contains(",-2"), "\(export.stdout)")
        }
        // Listings as CSV too; a negative amount stays a number.
        let list = try welfarePosts(["post", "list", "--format", "csv"], on: world.database)
        #expect(list.stdout.contains(",'@SUM(A1),"), "\(list.stdout)")
    }
}

private final class Results: @unchecked Sendable {
    private let lock = NSLock()
    private var results: [Result<ProcessResult, Error>] = []
    func add(_ result: Result<ProcessResult, Error>) { lock.withLock { results.append(result) } }
    var all: [Result<ProcessResult, Error>] { lock.withLock { results } }
}
