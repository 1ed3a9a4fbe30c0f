#include "impl/plugin/worker/worker.hpp"

#include <algorithm>
#include <atomic>
#include <bit>
#include <cstring>
#include <mutex>
#include <optional>
#include <span>

#include "impl/core/threads.hpp"
#include "impl/plugin/worker/protocol.hpp"

namespace convconf::worker {

static_assert(std::endian::native == std::endian::little, "the protocol's tensors are little-endian bytes");

using nlohmann::json;

namespace {
std::atomic<int64_t> g_timeout_ms{kDefaultTimeout.count()};
}  // namespace

void set_timeout(std::chrono::milliseconds t) {
    if (t.count() < 1)
        throw std::invalid_argument("a worker timeout is at least 1 ms, got " + std::to_string(t.count()) + " ms");
    g_timeout_ms = t.count();
}
std::chrono::milliseconds timeout() { return std::chrono::milliseconds(g_timeout_ms.load()); }

namespace {

// A worker that answered a request with an error (or declined a run): the check fails,
// and the process, which kept to the protocol, serves the next one.
class AnswerError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// One command's processes: idle ones are reused, a call that finds none starts one.
class Pool {
public:
    Pool(std::string command, std::vector<std::string> argv) : command_(std::move(command)), argv_(std::move(argv)) {}

    const std::string& command() const { return command_; }
    const std::vector<VariantInfo>& variants() const { return variants_; }

    // Starts the first process: its hello gives the variants every later one must announce.
    void open() {
        auto p = std::make_unique<Process>(argv_, command_);
        variants_ = hello(*p);
        give_back(std::move(p));
    }

    // Runs f on a process of this pool. A WorkerFailure (the process misbehaved; it is
    // dead) and an AnswerError (it answered an error) fail the call; only the latter
    // process serves again.
    template <class F>
    void with(F f) {
        std::unique_ptr<Process> p = take();
        try {
            f(*p);
        } catch (const AnswerError&) {
            give_back(std::move(p));
            throw;
        }
        give_back(std::move(p));
    }

private:
    std::unique_ptr<Process> take() {
        {
            const std::lock_guard<std::mutex> guard(m_);
            if (!idle_.empty()) {
                std::unique_ptr<Process> p = std::move(idle_.back());
                idle_.pop_back();
                return p;
            }
        }
        auto p = std::make_unique<Process>(argv_, command_);  // a restart, or one more for --threads
        if (hello(*p) != variants_) p->fail("announced other variants than its first process did");
        return p;
    }
    void give_back(std::unique_ptr<Process> p) {
        const std::lock_guard<std::mutex> guard(m_);
        idle_.push_back(std::move(p));
    }

    std::vector<VariantInfo> hello(Process& p) {
        const std::string doing = "starting (its hello)";
        const json request = {{"type", "hello"}, {"protocol", kProtocolVersion}, {"program", "convconf"}};
        const json a = answer(p, p.exchange(request.dump(), {}, timeout(), 0, doing), doing);
        if (a.at("type") != "hello") p.fail("answered the hello with a \"" + a.at("type").get<std::string>() + "\" message");
        if (!a.contains("protocol") || a["protocol"] != kProtocolVersion)
            p.fail("speaks protocol " + (a.contains("protocol") ? a["protocol"].dump() : std::string("(none given)")) +
                   "; this convconf speaks protocol " + std::to_string(kProtocolVersion));
        try {
            return parse_variants(a);
        } catch (const std::invalid_argument& e) {
            p.fail(std::string("sent a hello the protocol does not allow: ") + e.what());
        }
    }

public:
    // The answer's header: a JSON object with a string "type". An "error" answer throws
    // AnswerError; anything else not so is the process's failure.
    static json answer(Process& p, const Frame& f, const std::string& doing) {
        json a;
        try {
            a = json::parse(f.header);  // payload_bytes() parsed it once already
        } catch (const json::exception& e) {
            p.fail("sent a header that is not JSON while " + doing + ": " + e.what());
        }
        if (!a.contains("type") || !a["type"].is_string())
            p.fail("sent a header without a string \"type\" while " + doing);
        if (a["type"] == "error") {
            const std::string message = a.contains("message") && a["message"].is_string()
                                            ? a["message"].get<std::string>()
                                            : std::string("(no message)");
            throw AnswerError(p.who() + " answered an error while " + doing + ": " + one_line(message) +
                              p.stderr_tail(true));
        }
        return a;
    }

    static std::string one_line(std::string s) {
        for (char& c : s)
            if (c == '\n' || c == '\r') c = ' ';
        return s;
    }

private:
    std::string command_;
    std::vector<std::string> argv_;
    std::vector<VariantInfo> variants_;
    std::mutex m_;
    std::vector<std::unique_ptr<Process>> idle_;
};

std::string doing_text(const Call& c, const std::string& variant) {
    return "running " + std::string(to_string(c.op())) + " " + c.direction().name + " " +
           std::string(to_string(c.dtype())) + " for variant " + variant;
}

class WorkerVariant final : public Variant {
public:
    WorkerVariant(std::shared_ptr<Pool> pool, VariantInfo info) : pool_(std::move(pool)), info_(std::move(info)) {}

    std::string name() const override { return info_.name; }
    std::string description() const override {
        return (info_.description.empty() ? "" : info_.description + " ") + "[worker '" + pool_->command() + "']";
    }

    std::optional<std::string> unsupported(const Call& c) const override {
        const auto d = std::pair{c.op(), c.pass()};
        if (std::find(info_.directions.begin(), info_.directions.end(), d) == info_.directions.end())
            return "worker variant " + info_.name + " has no kernel for " + std::string(to_string(c.op())) + " " +
                   std::string(to_string(c.pass()));
        if (std::find(info_.dtypes.begin(), info_.dtypes.end(), c.dtype()) == info_.dtypes.end())
            return "worker variant " + info_.name + " has no " + std::string(to_string(c.dtype())) + " kernels";
        if (c.problem().ceil_mode && std::find(info_.fields.begin(), info_.fields.end(), "ceil_mode") == info_.fields.end())
            return "worker variant " + info_.name + " does not list ceil_mode in its hello's fields";
        if (c.problem().g != 1 && std::find(info_.fields.begin(), info_.fields.end(), "groups") == info_.fields.end())
            return "worker variant " + info_.name + " does not list groups in its hello's fields";
        const std::string doing = "asked whether variant " + info_.name + " supports " +
                                  std::string(to_string(c.op())) + " " + c.direction().name + " " +
                                  std::string(to_string(c.dtype()));
        const json request = {{"type", "supports"}, {"variant", info_.name}, {"call", call_json(c, threads())}};
        std::optional<std::string> reason;
        pool_->with([&](Process& p) {
            const json a = Pool::answer(p, p.exchange(request.dump(), {}, timeout(), 0, doing), doing);
            if (a["type"] == "supported") return;
            if (a["type"] != "unsupported")
                p.fail("answered a supports request with a \"" + a["type"].get<std::string>() + "\" message");
            if (!a.contains("reason") || !a["reason"].is_string() || a["reason"].get<std::string>().empty())
                p.fail("answered \"unsupported\" without a reason");
            reason = "worker variant " + info_.name + ": " + Pool::one_line(a["reason"].get<std::string>());
        });
        return reason;
    }

    void run(const Call& c) const override {
        c.validate();
        const Direction& d = c.direction();
        json tensors = json::array();
        std::vector<std::span<const unsigned char>> pieces;
        for (const Operand& o : d.inputs) {
            const int64_t bytes = element_count(shape_of(o.shape, c.problem())) * element_bytes(dtype_name(c, o.role));
            tensors.push_back({{"role", to_string(o.role)}, {"bytes", bytes}});
            pieces.emplace_back(static_cast<const unsigned char*>(c.data(o.role)), size_t(bytes));
        }
        uint64_t most = 0;
        for (const Operand& o : d.outputs)
            most += uint64_t(element_count(shape_of(o.shape, c.problem())) * element_bytes(dtype_name(c, o.role)));
        const json request = {
            {"type", "run"}, {"variant", info_.name}, {"call", call_json(c, threads())}, {"tensors", tensors}};
        const std::string doing = doing_text(c, info_.name);
        pool_->with([&](Process& p) {
            const Frame f = p.exchange(request.dump(), pieces, timeout(), most, doing);
            const json a = Pool::answer(p, f, doing);
            if (a["type"] == "unsupported")
                throw AnswerError(p.who() + " declined at run time a call it said it supports, while " + doing + ": " +
                                  (a.contains("reason") && a["reason"].is_string() ? Pool::one_line(a["reason"].get<std::string>()) : "(no reason)"));
            if (a["type"] != "result")
                p.fail("answered a run request with a \"" + a["type"].get<std::string>() + "\" message");
            take_outputs(p, c, a, f.payload, doing);
        });
    }

    std::string implementation_info(const Call&) const override { return "worker '" + pool_->command() + "'"; }

    void ping() const {
        const json request = {{"type", "ping"}};
        pool_->with([&](Process& p) {
            const json a = Pool::answer(p, p.exchange(request.dump(), {}, timeout(), 0, "answering a ping"), "answering a ping");
            if (a["type"] != "pong") p.fail("answered a ping with a \"" + a["type"].get<std::string>() + "\" message");
        });
    }

private:
    static int threads() { return std::max(1, max_threads()); }

    // The output of d a role name in an answer names, or nullptr.
    static const Operand* output_named(const Direction& d, const json& name) {
        if (!name.is_string()) return nullptr;
        const std::optional<Role> role = find_role(name.get<std::string>());
        for (const Operand& o : d.outputs)
            if (role && o.role == *role) return &o;
        return nullptr;
    }

    // Checks every tensor of a result against the call, then copies them into its outputs.
    static void take_outputs(Process& p, const Call& c, const json& a, const std::vector<unsigned char>& payload,
                             const std::string& doing) {
        const Direction& d = c.direction();
        const std::string said = " while " + doing;
        std::vector<Role> left_out;
        if (a.contains("left_out")) {
            if (!a["left_out"].is_array()) p.fail("sent a result whose /left_out is not an array" + said);
            for (const json& r : a["left_out"]) {
                const Operand* o = output_named(d, r);
                if (!o || !o->optional)
                    p.fail("left out " + r.dump() + ", which is not an optional output of " +
                           std::string(to_string(c.op())) + " " + d.name + said);
                left_out.push_back(o->role);
            }
        }
        if (!a.contains("tensors") || !a["tensors"].is_array()) p.fail("sent a result without a /tensors array" + said);
        struct Piece {
            Role role;
            size_t offset, bytes;
        };
        std::vector<Piece> got;
        size_t offset = 0;
        const json& list = a["tensors"];
        for (size_t i = 0; i < list.size(); ++i) {
            const json& t = list[i];
            const std::string at = "/tensors/" + std::to_string(i);
            const Operand* o = t.contains("role") ? output_named(d, t["role"]) : nullptr;
            if (!o)
                p.fail("sent " + at + "/role " + (t.contains("role") ? t["role"].dump() : std::string("(none)")) +
                       ", not an output of " + std::string(to_string(c.op())) + " " + d.name + said);
            const Role* role = &o->role;
            const std::string name(to_string(*role));
            for (const Piece& seen : got)
                if (seen.role == *role) p.fail("sent output " + name + " twice" + said);
            if (std::find(left_out.begin(), left_out.end(), *role) != left_out.end())
                p.fail("sent output " + name + " and also left it out" + said);
            const TensorShape want = shape_of(o->shape, c.problem());
            const std::string dtype = dtype_name(c, *role);
            if (!t.contains("dtype") || t["dtype"] != dtype)
                p.fail("sent output " + name + " as dtype " + (t.contains("dtype") ? t["dtype"].dump() : std::string("(none)")) +
                       "; the call's " + name + " is " + dtype + said);
            std::vector<int64_t> shape;
            if (t.contains("shape") && t["shape"].is_array())
                for (const json& e : t["shape"]) shape.push_back(e.is_number_integer() ? e.get<int64_t>() : -1);
            if (!t.contains("shape") || shape != want.extents)
                p.fail("sent output " + name + " with shape " + (t.contains("shape") ? t["shape"].dump() : std::string("(none)")) +
                       "; the call's " + name + " is " + shape_text(want) + said);
            const size_t bytes = size_t(element_count(want) * element_bytes(dtype));
            if (t["bytes"].get<uint64_t>() != bytes)
                p.fail("sent output " + name + " as " + t["bytes"].dump() + " bytes; " + shape_text(want) + " " + dtype +
                       " is " + std::to_string(bytes) + said);
            got.push_back({*role, offset, bytes});
            offset += bytes;
        }
        for (const Operand& o : d.outputs) {
            const bool sent = std::any_of(got.begin(), got.end(), [&](const Piece& g) { return g.role == o.role; });
            const bool omitted = std::find(left_out.begin(), left_out.end(), o.role) != left_out.end();
            if (!sent && !omitted)
                p.fail("sent no output " + std::string(to_string(o.role)) +
                       (o.optional ? " and did not list it in /left_out" : "") + said);
        }
        for (const Piece& g : got) std::memcpy(c.data(g.role), payload.data() + g.offset, g.bytes);
        for (Role r : left_out) c.leave_out(r);
    }

    std::shared_ptr<Pool> pool_;
    VariantInfo info_;
};

}  // namespace

Source start(const std::string& command, std::vector<std::string> argv) {
    if (argv.empty()) {
        try {
            argv = split_command(command);
        } catch (const std::invalid_argument& e) {
            throw WorkerFailure("worker '" + command + "': not a command: " + e.what());
        }
    }
    auto pool = std::make_shared<Pool>(command, std::move(argv));
    pool->open();
    Source s{command, {}};
    for (const VariantInfo& v : pool->variants()) s.variants.push_back(std::make_unique<WorkerVariant>(pool, v));
    return s;
}

bool is_worker(const Variant& v) { return dynamic_cast<const WorkerVariant*>(&v) != nullptr; }

void ping(const Variant& v) {
    const auto* w = dynamic_cast<const WorkerVariant*>(&v);
    if (!w) throw std::invalid_argument("variant " + v.name() + " is not a worker's");
    w->ping();
}

}  // namespace convconf::worker
