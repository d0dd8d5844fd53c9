import Dispatch
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A child process with its output going to a log file: started with posix_spawn, stopped with
/// signals, its exit reported once. The CLI needs no more than this from Foundation's Process,
/// and Process would link all of Foundation and ICU's locale data into the executable.
final class ChildProcess: Sendable {
    let pid: pid_t
    private let exitStatus = Mutex<Int32?>(nil)

    /// Starts `executable` with `arguments`, stdout and stderr appended to `logPath` (created
    /// empty), stdin from /dev/null, and this process's environment. `onExit` runs once, on
    /// another thread, with the exit status (128 + N for a child ended by signal N).
    init(executable: String, arguments: [String], logPath: String, onExit: @escaping @Sendable (Int32) -> Void) throws(ChildProcessError) {
        let log = open(logPath, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0o644)
        guard log >= 0 else { throw ChildProcessError("cannot create log file \(logPath): \(Self.lastError())") }
        defer { close(log) }

        #if canImport(Glibc)
        var actions = posix_spawn_file_actions_t()
        #else
        var actions: posix_spawn_file_actions_t?
        #endif
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, log, 1)
        posix_spawn_file_actions_adddup2(&actions, log, 2)

        // The child starts with every signal at its default and none blocked, whatever this
        // process does with them (`concord up` ignores SIGINT and SIGTERM to stop in order).
        #if canImport(Glibc)
        var attributes = posix_spawnattr_t()
        #else
        var attributes: posix_spawnattr_t?
        #endif
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var allSignals = sigset_t()
        sigfillset(&allSignals)
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, executable, &actions, &attributes, argv, environ)
        guard result == 0 else { throw ChildProcessError("cannot start \(executable): \(String(cString: strerror(result)))") }
        self.pid = pid

        // A blocking wait on a thread of its own: there are only a few children, and on Linux a
        // dispatch source cannot watch a process.
        let child = pid
        DispatchQueue.global().async { [self] in
            var status: Int32 = 0
            while waitpid(child, &status, 0) == -1, errno == EINTR {}
            // WIFEXITED / WEXITSTATUS / WTERMSIG, which Swift does not import as macros.
            let signal = status & 0x7F
            let code = signal == 0 ? (status >> 8) & 0xFF : 128 + signal
            self.exitStatus.withLock { $0 = code }
            onExit(code)
        }
    }

    /// The exit status once the child has exited.
    var status: Int32? { self.exitStatus.withLock { $0 } }
    var isRunning: Bool { self.status == nil }

    func signal(_ number: Int32) {
        guard self.isRunning else { return }
        kill(self.pid, number)
    }

    private static func lastError() -> String { String(cString: strerror(errno)) }
}

struct ChildProcessError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Writes all of `text` to a file descriptor at once, even when it is a file or a pipe (print
/// buffers there).
func writeAll(_ text: String, to descriptor: Int32) {
    var bytes = Array(text.utf8)[...]
    while !bytes.isEmpty {
        let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        if written < 0, errno == EINTR { continue }
        guard written > 0 else { return }
        bytes = bytes.dropFirst(written)
    }
}

/// A line on stdout, at once.
func say(_ text: String) {
    writeAll(text + "\n", to: 1)
}

/// A line on stderr.
func complain(_ text: String) {
    writeAll(text + "\n", to: 2)
}
