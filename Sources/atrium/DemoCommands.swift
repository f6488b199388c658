import Archive
import ArgumentParser
import Foundation
import Platform
import Server

/// `atrium demo …`: the demonstration data of `atrium serve --demo`.
struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Manage the demo data of atrium serve --demo.", subcommands: [DemoRemove.self])
}

struct DemoRemove: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remove",
        abstract: "Remove the demo accounts (and demo institutions and studies); prints what it removed.",
        discussion: """
            Deletes every account marked as a demo account (with its sessions and API tokens), every demo institution no \
            other person belongs to, and the demo patients' studies (\(DemoData.patientIDs.joined(separator: ", ")); keep \
            them with --keep-studies). Accounts and institutions that are not demo ones are never touched. The server may be \
            running. A later atrium serve --demo on a folder without other people makes fresh demo accounts.
            """)

    @Flag(help: "Keep the demo studies in the archive.") var keepStudies = false
    @OptionGroup var store: StoreOptions

    func run() async throws {
        let server = try await store.open()
        let removal = try await server.identity.removeDemo(actor: .commandLine)
        await server.identity.audit.flush()
        print("removed demo accounts: \(removal.people.isEmpty ? "none" : removal.people.joined(separator: ", "))")
        if !removal.disabledPeople.isEmpty {
            print("disabled (still referred to elsewhere): \(removal.disabledPeople.joined(separator: ", "))")
        }
        print("removed demo institutions: \(removal.institutions.isEmpty ? "none" : removal.institutions.joined(separator: ", "))")
        if !removal.keptInstitutions.isEmpty {
            print("kept demo institutions (other people belong to them): \(removal.keptInstitutions.joined(separator: ", "))")
        }
        guard !keepStudies else { return }
        var instances = 0
        for patientID in DemoData.patientIDs {
            instances += try await server.archive.delete(.patient(patientID: patientID, issuerOfPatientID: nil))
        }
        print("removed demo studies: \(instances) instances")
    }
}
