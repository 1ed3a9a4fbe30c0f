#include "impl/core/tensor.hpp"

namespace convconf {

std::string_view to_string(AxisOrder o) {
    switch (o) {
        case AxisOrder::plain: return "plain";
        case AxisOrder::nchw: return "NCHW";
        case AxisOrder::nhwc: return "NHWC";
        case AxisOrder::oihw: return "OIHW";
        case AxisOrder::hwio: return "HWIO";
    }
    return "?";
}

std::array<int, 4> physical_to_logical(AxisOrder o) {
    switch (o) {
        case AxisOrder::nhwc: return {0, 2, 3, 1};
        case AxisOrder::hwio: return {2, 3, 1, 0};
        default: return {0, 1, 2, 3};
    }
}

std::string index_string(AxisOrder order, const std::vector<int64_t>& shape, int64_t flat) {
    std::vector<int64_t> idx(shape.size());
    for (int p = static_cast<int>(shape.size()) - 1; p >= 0; --p) {
        idx[p] = flat % shape[p];
        flat /= shape[p];
    }
    std::string names, values;
    auto add = [&](const char* name, int64_t v) {
        names += (names.empty() ? "" : ",") + std::string(name);
        values += (values.empty() ? "" : ",") + std::to_string(v);
    };
    if (order == AxisOrder::plain) {
        static const char* kNames2[] = {"row", "col"};
        for (size_t p = 0; p < idx.size(); ++p)
            add(idx.size() == 2 ? kNames2[p] : idx.size() == 1 ? "i" : "d", idx[p]);
    } else {
        const bool weights = order == AxisOrder::oihw || order == AxisOrder::hwio;
        static const char* kAct[] = {"n", "c", "h", "w"};
        static const char* kWei[] = {"o", "i", "h", "w"};
        const auto perm = physical_to_logical(order);
        std::array<int64_t, 4> logical{};
        for (int p = 0; p < 4; ++p) logical[perm[p]] = idx[p];
        for (int l = 0; l < 4; ++l) add(weights ? kWei[l] : kAct[l], logical[l]);
    }
    return "(" + names + ")=(" + values + ")";
}

}  // namespace convconf
