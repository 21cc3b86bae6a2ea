// The template engine on its own: each expectation is what Jinja2 3.1 (the
// engine transformers uses, with trim_blocks / lstrip_blocks) documents or
// prints for the same template, and a robustness sweep: no input crashes it.
#include "chat/template.h"
#include "util/error.h"

#include <gtest/gtest.h>

#include <random>

using namespace mlxmtp::detail;
using jinja::value;

namespace {

std::string R(const std::string &src, const std::vector<std::pair<std::string, value>> &vars = {}) {
    return chat_template(src).render(vars);
}

std::string err(const std::string &src) {
    try {
        chat_template t(src);
        t.render({});
    } catch (const error &e) {
        EXPECT_EQ(e.status(), MLXMTP_ERR_TEMPLATE);
        return e.what();
    }
    return "<no error>";
}

value list_of(std::initializer_list<value> v) { return value::new_list(v); }

}  // namespace

TEST(ChatEngine, WhitespaceControl) {
    EXPECT_EQ(R("a\n  {% if true %}\n  b\n  {% endif %}\nc"), "a\n  b\nc");  // trim_blocks + lstrip_blocks
    EXPECT_EQ(R("a  {%- if true -%}  b  {%- endif %}"), "ab");
    EXPECT_EQ(R("x {{- 1 -}} y"), "x1y");
    EXPECT_EQ(R("a {# c #} b"), "a  b");
    EXPECT_EQ(R("{% raw %}{{ x }}{% endraw %}"), "{{ x }}");
    EXPECT_EQ(R("  {%+ if true %}x{% endif %}"), "  x");
}

TEST(ChatEngine, ExpressionsAndPythonValues) {
    EXPECT_EQ(R("{{ 1 + 2 * 3 }} {{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ 2 ** 10 }} {{ 7 / 2 }}"), "7 3 -4 1 1024 3.5");
    EXPECT_EQ(R("{{ none }} {{ true }} {{ [1, 'a', none] }} {{ {'k': 1.0} }}"), "None True [1, 'a', None] {'k': 1.0}");
    EXPECT_EQ(R("{{ 'a' ~ 1 ~ none }}"), "a1None");
    EXPECT_EQ(R("{{ 'x' if false }}|{{ 'y' if false else 'z' }}"), "|z");
    EXPECT_EQ(R("{{ 0 or 'b' }} {{ 'a' and 'b' }} {{ not [] }}"), "b b True");
    EXPECT_EQ(R("{{ 1e-05 }} {{ 0.1 + 0.2 }} {{ 1e16 }} {{ 100.0 }}"), "1e-05 0.30000000000000004 1e+16 100.0");
    EXPECT_EQ(R("{{ 'abcdef'[::-1] }} {{ 'abcdef'[1:4] }} {{ [1,2,3,4][::2] }} {{ 'héllo'[1] }} {{ [1,2,3][-1] }}"),
              "fedcba bcd [1, 3] é 3");
    EXPECT_EQ(R("{{ 'b' in 'abc' }} {{ 2 in [1, 2] }} {{ 'k' in {'k': 1} }} {{ 1 not in [1] }}"), "True True True False");
    EXPECT_EQ(R("{{ 1 == 1.0 }} {{ true == 1 }} {{ [1] == [1] }} {{ 'a' < 'b' }}"), "True True True True");
}

TEST(ChatEngine, LoopsSetNamespaceMacros) {
    EXPECT_EQ(R("{% for x in [1,2,3] %}{{ loop.index }}{{ loop.first }}{{ loop.last }}{{ loop.length }} {% endfor %}"),
              "1TrueFalse3 2FalseFalse3 3FalseTrue3 ");
    EXPECT_EQ(R("{% for x in [1,2,3] %}{{ loop.previtem }}-{{ loop.nextitem }},{% endfor %}"), "-2,1-3,2-,");
    EXPECT_EQ(R("{% for x in [] %}a{% else %}empty{% endfor %}"), "empty");
    EXPECT_EQ(R("{% for x in [1,2,3,4] if x is even %}{{ x }}{{ loop.length }}{% endfor %}"), "2242");
    EXPECT_EQ(R("{% for k, v in {'a': 1, 'b': 2}.items() %}{{ k }}={{ v }};{% endfor %}"), "a=1;b=2;");
    EXPECT_EQ(R("{% for x in [1,2,3,4] %}{% if x == 2 %}{% continue %}{% endif %}{% if x == 4 %}{% break %}{% endif %}{{ x }}{% endfor %}"),
              "13");
    // Loop scope: `set` inside a loop does not leak; a namespace does.
    EXPECT_EQ(R("{% set x = 1 %}{% for i in [1,2] %}{% set x = i %}{% endfor %}{{ x }}"), "1");
    EXPECT_EQ(R("{% set ns = namespace(x=1) %}{% for i in [1,2] %}{% set ns.x = ns.x + i %}{% endfor %}{{ ns.x }}"), "4");
    EXPECT_EQ(R("{% macro m(a, b='d') %}[{{ a }}{{ b }}]{% endmacro %}{{ m(1) }}{{ m(1, b=2) }}{{ m(1)|length }}"),
              "[1d][12]4");
    EXPECT_EQ(R("{% set s %}in{{ 1 }}{% endset %}{{ s }}"), "in1");
    EXPECT_EQ(R("{% filter upper %}abc{% endfilter %}"), "ABC");
}

TEST(ChatEngine, FiltersTestsAndMethods) {
    EXPECT_EQ(R("{{ {'a': [1, 2.5, true, none, 'é\"\\n']}|tojson }}"), "{\"a\": [1, 2.5, true, null, \"é\\\"\\n\"]}");
    EXPECT_EQ(R("{{ {'b': 1, 'a': 2}|tojson }}"), "{\"b\": 1, \"a\": 2}");  // key order kept (transformers' tojson)
    EXPECT_EQ(R("{{ [1]|tojson(indent=2) }}"), "[\n  1\n]");
    EXPECT_EQ(R("{{ '  x  '|trim }}|{{ 'xxaxx'.strip('x') }}|{{ 'a,b,,c'.split(',') }}|{{ ' a  b '.split() }}"),
              "x|a|['a', 'b', '', 'c']|['a', 'b']");
    EXPECT_EQ(R("{{ 'Hello'.startswith('He') }} {{ 'Hello'.endswith(('x', 'lo')) }} {{ 'aaa'.replace('a', 'b', 2) }}"),
              "True True bba");
    EXPECT_EQ(R("{{ [3,1,2]|sort|join(',') }} {{ [1,2,3]|length }} {{ 'abc'|upper }} {{ [1,2]|first }} {{ [1,2]|last }}"),
              "1,2,3 3 ABC 1 2");
    EXPECT_EQ(R("{{ x|default('d') }} {{ ''|default('d', true) }} {{ [1,1,2]|unique|list }} {{ [1,2]|map('string')|join }}"),
              "d d [1, 2] 12");
    EXPECT_EQ(R("{{ [{'a': 1}, {'a': 2}]|selectattr('a', 'equalto', 2)|list }} {{ [{'a': 1}]|map(attribute='a')|list }}"),
              "[{'a': 2}] [1]");
    EXPECT_EQ(R("{{ x is defined }} {{ none is none }} {{ 'a' is string }} {{ {} is mapping }} {{ [] is iterable }} "
                "{{ 3 is odd }} {{ 1 is number }} {{ true is boolean }} {{ 6 is divisibleby 3 }} {{ 'a' is not string }}"),
              "False True True True True True True True True False");
    EXPECT_EQ(R("{{ 'a b'|title }} {{ 'ab'|capitalize }} {{ '1'|int + 1 }} {{ 'x'|string }} {{ 3.7|round }} {{ -2|abs }}"),
              "A B Ab 2 x 4.0 2");
    EXPECT_EQ(R("{{ d.get('k', 'z') }} {{ d['k2'] }} {{ d.k2 }} {{ d|length }}",
                {{"d", [] {
                      value d = value::new_dict();
                      d.d->set("k2", value::integer(5));
                      return d;
                  }()}}),
              "z 5 5 1");
    EXPECT_EQ(R("{{ range(3)|list }} {{ range(1, 7, 2)|list }}"), "[0, 1, 2] [1, 3, 5]");
    EXPECT_EQ(R("{{ x|items|list }}", {{"x", value::new_dict()}}), "[]");
    EXPECT_EQ(R("{{ xs|join('-') }}", {{"xs", list_of({value::str("a"), value::integer(2)})}}), "a-2");
}

TEST(ChatEngine, ErrorsNameTheLine) {
    std::string e = err("ok\n{{ raise_exception('Bad input.') }}");
    EXPECT_NE(e.find("line 2"), std::string::npos) << e;
    EXPECT_NE(e.find("Bad input."), std::string::npos);
    EXPECT_NE(err("a\nb\n{% if %}").find("line 3"), std::string::npos);
    EXPECT_NE(err("{% for x in y %}").find("endfor"), std::string::npos);
    EXPECT_NE(err("{{ 'a' + 1 }}").find("unsupported operand"), std::string::npos);
    EXPECT_NE(err("\n\n{{ x.y }}").find("line 3"), std::string::npos);  // attribute of undefined
    EXPECT_NE(err("{{ x|nosuchfilter }}").find("nosuchfilter"), std::string::npos);
    EXPECT_NE(err("{{ 1 / 0 }}").find("division"), std::string::npos);
    EXPECT_NE(err("{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}").find("recursion"), std::string::npos);
    EXPECT_NE(err("{{ 'unterminated }}").find("line 1"), std::string::npos);
    EXPECT_NE(err("{% set x = 1 %}{% set x.y = 2 %}").find("namespace"), std::string::npos);
}

TEST(ChatEngine, RandomInputsNeverCrash) {
    // Mutations of real template fragments: parse or render may fail, but only
    // with a template error.
    const std::string seeds[] = {
        "{%- for m in messages %}{{ m.role|upper }}{% if loop.last %}!{% endif %}{% endfor %}",
        "{% set ns = namespace(a=1) %}{{ ns.a ~ 'x' }}{{ [1,2][::-1]|tojson }}",
        "{% macro f(x, y=2) %}{{ x * y }}{% endmacro %}{{ f(3) }}{{ 'a b'.split()|length }}",
        "{{ messages[0].content.split('</think>')[-1].lstrip('\\n') }}",
    };
    value msgs = value::new_list();
    value m = value::new_dict();
    m.d->set("role", value::str("user"));
    m.d->set("content", value::str("<think>x</think>\nhi"));
    msgs.l->push_back(m);
    std::mt19937 rng(1234);
    const std::string alphabet = "{}%#-+()[]|.,:'\"=~ \nabxyzif0129";
    size_t ok = 0, failed = 0;
    for (int iter = 0; iter < 3000; ++iter) {
        std::string s = seeds[static_cast<size_t>(iter) % 4];
        int edits = 1 + static_cast<int>(rng() % 4);
        for (int k = 0; k < edits && !s.empty(); ++k) {
            size_t pos = rng() % s.size();
            switch (rng() % 3) {
            case 0: s.erase(pos, 1 + rng() % 3); break;
            case 1: s.insert(pos, 1, alphabet[rng() % alphabet.size()]); break;
            default: s[pos] = alphabet[rng() % alphabet.size()]; break;
            }
        }
        try {
            chat_template t(s);
            t.render({{"messages", msgs}});
            ++ok;
        } catch (const error &e) {
            EXPECT_EQ(e.status(), MLXMTP_ERR_TEMPLATE) << s << ": " << e.what();
            ++failed;
        }
    }
    EXPECT_GT(ok, 0u);
    EXPECT_GT(failed, 0u);
}
