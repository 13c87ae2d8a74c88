// How doctest prints the values the integration tests compare (vectors of
// stdout lines, gaps, counts), so a failing CHECK shows expected and seen.
#pragma once

#include <doctest/doctest.h>

#include <sstream>
#include <string>
#include <vector>

#include "support.hpp"

namespace doctest {

template <typename T>
struct StringMaker<std::vector<T>> {
    static String convert(const std::vector<T>& values) {
        std::ostringstream s;
        s << "{";
        for (std::size_t i = 0; i < values.size(); ++i) {
            if (i)
                s << ", ";
            if constexpr (std::is_convertible_v<T, std::string_view>)
                s << "\"" << pjtest::escaped(values[i], 300) << "\"";
            else
                s << values[i];
        }
        s << "} (" << values.size() << " items)";
        return String(s.str().c_str());
    }
};

}  // namespace doctest
