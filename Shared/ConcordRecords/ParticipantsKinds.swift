/// The participants service's kinds as other services' records name them: the one place that
/// says a country and a region are keyed by `code`, an official by `id` and a session by its
/// `number`. Agreements and trade metrics check their references against these.
extension RemoteReference {
    public static func country(_ code: String, field: String) -> RemoteReference {
        RemoteReference(field: field, service: "participants", kind: "countries", keyField: "code", key: .text(code), noun: "country")
    }

    public static func region(_ code: String, field: String) -> RemoteReference {
        RemoteReference(field: field, service: "participants", kind: "regions", keyField: "code", key: .text(code), noun: "region")
    }

    public static func official(_ id: String, field: String) -> RemoteReference {
        RemoteReference(field: field, service: "participants", kind: "officials", keyField: "id", key: .text(id), noun: "official")
    }

    /// A committee session, by its number.
    public static func session(_ number: Int64, field: String) -> RemoteReference {
        RemoteReference(field: field, service: "participants", kind: "sessions", keyField: "number", key: .integer(number), noun: "session")
    }
}

extension RemoteKind {
    public static func countries(at fields: [String]) -> RemoteKind {
        RemoteKind(service: "participants", kind: "countries", keyField: "code", fields: fields)
    }

    public static func regions(at fields: [String]) -> RemoteKind {
        RemoteKind(service: "participants", kind: "regions", keyField: "code", fields: fields)
    }

    public static func officials(at fields: [String]) -> RemoteKind {
        RemoteKind(service: "participants", kind: "officials", keyField: "id", fields: fields)
    }

    public static func sessions(at fields: [String]) -> RemoteKind {
        RemoteKind(service: "participants", kind: "sessions", keyField: "number", integerKey: true, fields: fields)
    }
}
