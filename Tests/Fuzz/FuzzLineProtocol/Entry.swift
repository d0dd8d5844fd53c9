import FuzzDriver

// SwiftPM links an executable's entry point as `FuzzLineProtocol_main`: libFuzzer's driver takes over there.
@_cdecl("FuzzLineProtocol_main")
public func entry(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv) { data, size in fuzzLineProtocol(data, size) }
}
