import AtriumTesting
import Foundation
import Server
import Testing
import Training

#if canImport(Glibc)
    import Glibc
#endif

/// Tables whose rows the backup must carry unchanged: one or more of each workflow's, chosen among those nothing
/// writes while the server idles (versions and answers are appended, never rewritten).
private let workflowTables = [
    "people", "institutions", "consultation_studies", "report_versions", "teaching_case_versions", "training_exams",
    "training_answers", "lab_observations", "health_examinations", "programme_targets",
]

@Suite("Backup and restore")
struct BackupRestoreTests {
    @Test(
        "atrium backup while storescu sends; the data directory wiped; atrium restore: every instance acknowledged before the backup is retrieved identical, every workflow row is as it was"
    )
    func backupWhileIngesting() async throws {
        let data = try Corpus.temporaryDirectory("atrium-backup-data")
        let folder = try Corpus.temporaryDirectory("atrium-backup-folder") + "/backup"
        let files = try Corpus.temporaryDirectory("atrium-backup-files")
        let atrium = try AtriumExecutable.path()
        let check = Corpus.script("ServerTests", "backup_check.py")

        // The demo's data of every workflow; then, with the server stopped, an administrator's token and an exam with a
        // student's saved answers (the demo has none; a data folder with people of its own gets no demo).
        let demo = try await AtriumServeProcess.start(data: data, arguments: ["--demo"])
        kill(demo.process.processIdentifier, SIGTERM)
        #expect(await demo.process.exitStatus(within: 60) == 0, "\(demo.process.output.suffix(2000))")
        var configuration = ServerConfiguration()
        configuration.dataDirectory = data
        let token: String
        do {
            let setup = try AtriumServer(configuration: configuration)
            token = try await setup.testToken("backup-admin", roles: [.admin])
            try await setup.training.prepare()
            var ids: [Int64] = []
            for n in 0..<3 {
                let question = try await setup.training.createQuestion(
                    QuestionContent(
                        kind: .singleChoice, stem: "备份 \(n)",
                        choices: [Choice(id: "a", text: "是", correct: true), Choice(id: "b", text: "否", correct: false)]),
                    by: "teacher")
                ids.append(question.id)
            }
            let exam = try await setup.training.createExam(
                ExamSettings(title: "Backup", forms: [ids], shuffle: false, students: ["stu.backup"]), by: "teacher",
                at: Date().addingTimeInterval(-60))
            let attempt = try await setup.training.start(exam: exam.id, student: "stu.backup")
            for (index, id) in ids.enumerated() {
                _ = try await setup.training.saveAnswer(
                    attempt: attempt.id, question: id, student: "stu.backup", answer: Answer(choices: [index == 0 ? "a" : "b"]),
                    sequence: 1)
            }
        }
        var run = try await Subprocess.runDetached("python3", [check, "make", files, "60"])
        try #require(run.status == 0, "\(run.errorOutput)")
        let sent = try FileManager.default.contentsOfDirectory(atPath: files).sorted().map { files + "/" + $0 }

        let first = try await AtriumServeProcess.start(data: data)
        run = try await Subprocess.runDetached("python3", [check, "tables", data + "/atrium.sqlite"] + workflowTables)
        try #require(run.status == 0, "\(run.errorOutput)")
        let rowsBefore = run.output
        let counts = try #require(try JSONSerialization.jsonObject(with: Data(rowsBefore.utf8)) as? [String: [Any]])
        for table in workflowTables { #expect(counts[table]?.isEmpty == false, "no rows in \(table) to check") }

        // storescu sends the files one C-STORE at a time; the backup starts once a third are acknowledged.
        let storescu = try PeerProcess(
            "/usr/bin/storescu", ["-v", "-aec", "ATRIUM", "127.0.0.1", "\(first.dicomPort)"] + sent, environment: ["TCP_NODELAY": "1"])
        try await waitForAcknowledgements(storescu, count: 20)
        let acknowledgedBefore = acknowledgedFiles(storescu.output)
        run = try await Subprocess.runDetached(atrium, ["backup", "--data", data, "--to", folder])
        #expect(run.status == 0, "\(run.output)\(run.errorOutput)")
        print(run.output)
        let acknowledgedDuring = acknowledgedFiles(storescu.output)
        #expect(await storescu.exitStatus(within: 120) == 0, "\(storescu.output.suffix(2000))")
        first.process.stop()

        // The manifest is complete and counts what the snapshot held: the demo's, then the ones stored before it.
        let manifestData = try #require(FileManager.default.contents(atPath: folder + "/manifest.json"))
        let manifest = try #require(try JSONSerialization.jsonObject(with: manifestData) as? [String: Any])
        let instances = try #require(manifest["instances"] as? Int)
        let counted = try await Subprocess.runDetached(
            "python3",
            [
                "-c", "import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute('SELECT count(*) FROM instances').fetchone()[0])",
                folder + "/atrium.sqlite",
            ])
        let indexed = try #require(Int(counted.output.trimmingCharacters(in: .whitespacesAndNewlines)), "\(counted.errorOutput)")
        #expect(instances == indexed)

        // Wiped: the whole data directory goes. Restore refuses a folder that is not a finished backup, then restores.
        try FileManager.default.removeItem(atPath: data)
        run = try await Subprocess.runDetached(atrium, ["restore", "--from", files, "--data", data])
        #expect(run.status == 1 && run.errorOutput.contains("no manifest"), "\(run.errorOutput)")
        #expect(!FileManager.default.fileExists(atPath: data + "/atrium.sqlite"))
        run = try await Subprocess.runDetached(atrium, ["restore", "--from", folder, "--data", data])
        #expect(run.status == 0, "\(run.output)\(run.errorOutput)")
        run = try await Subprocess.runDetached(atrium, ["restore", "--from", folder, "--data", data])
        #expect(run.status == 1 && run.errorOutput.contains("already holds an archive"), "\(run.errorOutput)")

        // The workflows' rows, read by Python's sqlite3, are those of before the backup.
        run = try await Subprocess.runDetached("python3", [check, "tables", data + "/atrium.sqlite"] + workflowTables)
        #expect(run.status == 0 && run.output == rowsBefore, "\(run.errorOutput)")

        // The restored archive serves: every instance acknowledged before the backup began is retrieved over WADO-RS
        // (dicomweb-client) and is the data set storescu sent (pydicom); those stored while it ran may or may not be.
        let second = try await AtriumServeProcess.start(data: data)
        defer { second.process.stop() }
        run = try await Subprocess.runDetached(
            "python3", [check, "retrieve", second.baseURL + "/dicom-web"] + acknowledgedBefore, environment: ["ATRIUM_TOKEN": token])
        #expect(run.status == 0, "\(run.output.suffix(3000))\(run.errorOutput.suffix(2000))")
        #expect(acknowledgedBefore.count >= 20 && acknowledgedDuring.count >= acknowledgedBefore.count)
        // A second backup into the same folder of the restored archive copies nothing new.
        run = try await Subprocess.runDetached(atrium, ["backup", "--data", data, "--to", folder])
        #expect(run.status == 0 && run.output.contains("0 copied now"), "\(run.output)\(run.errorOutput)")

        // A damaged backup (one blob gone) is refused with the instance named, and leaves nothing in the target.
        let blobs = try #require(FileManager.default.enumerator(atPath: folder + "/blobs")?.allObjects as? [String])
        let victim = try #require(blobs.first { $0.contains("/") })
        try FileManager.default.removeItem(atPath: folder + "/blobs/" + victim)
        let elsewhere = try Corpus.temporaryDirectory("atrium-backup-damaged") + "/data"
        run = try await Subprocess.runDetached(atrium, ["restore", "--from", folder, "--data", elsewhere])
        #expect(run.status == 1 && run.errorOutput.contains("lacks the blob"), "\(run.errorOutput)")
        #expect(!FileManager.default.fileExists(atPath: elsewhere + "/atrium.sqlite"))
        #expect(!FileManager.default.fileExists(atPath: elsewhere + "/blobs"))
    }

    @Test(
        "PostgreSQL + S3, as docs/operations.md says: pg_dump while storescu sends, then the bucket copied; database and bucket wiped; pg_restore and the objects put back: every instance acknowledged before the dump is retrieved identical"
    )
    func postgresAndBucket() async throws {
        let postgres = try await PostgresServer.start()
        defer { postgres.stop() }
        let moto = try await MotoServer.start()
        defer { moto.stop() }
        let database = try await postgres.createDatabase("backup")
        let storage = ["--storage", "s3://\(moto.bucket)/blobs", "--storage-endpoint", moto.endpoint]
        let check = Corpus.script("ServerTests", "backup_check.py")
        let work = try Corpus.temporaryDirectory("atrium-backup-pg")
        let files = work + "/files"
        var run = try await Subprocess.runDetached("python3", [check, "make", files, "60"])
        try #require(run.status == 0, "\(run.errorOutput)")
        let sent = try FileManager.default.contentsOfDirectory(atPath: files).sorted().map { files + "/" + $0 }

        // An administrator's token, in the database that is backed up.
        var configuration = ServerConfiguration()
        configuration.dataDirectory = work + "/helper"
        try configuration.set("database", database, source: "test")
        try configuration.set("storage", "s3://\(moto.bucket)/blobs", source: "test")
        try configuration.set("storageEndpoint", moto.endpoint, source: "test")
        let token = try await AtriumServer(configuration: configuration, environment: moto.environment).testToken(
            "backup-admin", roles: [.admin])

        let first = try await AtriumServeProcess.start(
            data: work + "/data-1", arguments: ["--database", database] + storage, environment: moto.environment)
        let storescu = try PeerProcess(
            "/usr/bin/storescu", ["-v", "-aec", "ATRIUM", "127.0.0.1", "\(first.dicomPort)"] + sent, environment: ["TCP_NODELAY": "1"])
        try await waitForAcknowledgements(storescu, count: 20)
        // The index first (one consistent snapshot), then the objects: every row of the dump has its object.
        let acknowledgedBefore = acknowledgedFiles(storescu.output)
        run = try await Subprocess.runDetached(
            try PostgresServer.clientProgram("pg_dump"), ["-Fc", "-f", work + "/atrium.pgdump", database])
        #expect(run.status == 0, "pg_dump: \(run.errorOutput)")
        run = try await Subprocess.runDetached(
            "python3", [check, "bucket", "save", moto.endpoint, moto.bucket, work + "/bucket"], environment: moto.environment)
        #expect(run.status == 0, "bucket save: \(run.errorOutput)")
        print("backup of PostgreSQL + S3: \(acknowledgedBefore.count) acknowledged before the dump; bucket \(run.output)")
        #expect(await storescu.exitStatus(within: 120) == 0, "\(storescu.output.suffix(2000))")
        first.process.stop()

        // Wiped: the database dropped (the helper's pool still connected: WITH (FORCE)) and every object deleted.
        _ = try await postgres.psql(database: "postgres", "DROP DATABASE backup WITH (FORCE)")
        run = try await Subprocess.runDetached(
            "python3", [check, "bucket", "wipe", moto.endpoint, moto.bucket], environment: moto.environment)
        #expect(run.status == 0, "bucket wipe: \(run.errorOutput)")

        // Restored into a new, empty database and the emptied bucket.
        let restored = try await postgres.createDatabase("restored")
        run = try await Subprocess.runDetached(
            try PostgresServer.clientProgram("pg_restore"), ["--no-owner", "-d", restored, work + "/atrium.pgdump"])
        #expect(run.status == 0, "pg_restore: \(run.errorOutput)")
        run = try await Subprocess.runDetached(
            "python3", [check, "bucket", "load", moto.endpoint, moto.bucket, work + "/bucket"], environment: moto.environment)
        #expect(run.status == 0, "bucket load: \(run.errorOutput)")

        let second = try await AtriumServeProcess.start(
            data: work + "/data-2", arguments: ["--database", restored] + storage, environment: moto.environment)
        defer { second.process.stop() }
        run = try await Subprocess.runDetached(
            "python3", [check, "retrieve", second.baseURL + "/dicom-web"] + acknowledgedBefore,
            environment: moto.environment.merging(["ATRIUM_TOKEN": token]) { $1 })
        #expect(run.status == 0, "\(run.output.suffix(3000))\(run.errorOutput.suffix(2000))")
        #expect(acknowledgedBefore.count >= 20)
    }
}
