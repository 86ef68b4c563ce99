/* test_egress.c — the egress policy: address classes (IPv4, IPv6, mapped and embedded forms),
 * allow entries (CIDR and host:port), the always-denied metadata ranges, agynd's own address,
 * the public-to-private and plain-HTTP rules, the thread deadline, and the libcurl hook
 * against a real listening socket on loopback. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/clock.h"
#include "net/egress.h"

/* A sockaddr for an address literal and port. */
static struct sockaddr_storage addr_of(const char *text, unsigned port) {
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    struct sockaddr_in *v4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, text, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)port);
    } else {
        assert_int_equal(inet_pton(AF_INET6, text, &v6->sin6_addr), 1);
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)port);
    }
    return ss;
}

static enum egress_class class_of(const char *text) {
    struct sockaddr_storage ss = addr_of(text, 80);
    return egress_classify((struct sockaddr *)&ss);
}

static bool allowed(const char *text, unsigned port, char *why, size_t size) {
    struct sockaddr_storage ss = addr_of(text, port);
    return egress_address_allowed((struct sockaddr *)&ss, false, false, why, size);
}

static void configure(const char *const *allow, const char *const *own) {
    struct agyn_error err = {0};
    struct egress_config config = {.allow = allow, .own_listen = own};
    if (egress_configure(&config, &err) != 0)
        fail_msg("egress_configure: %s", err.message);
}

static void test_classes(void **state) {
    (void)state;
    assert_int_equal(class_of("127.0.0.1"), EGRESS_LOOPBACK);
    assert_int_equal(class_of("127.255.0.9"), EGRESS_LOOPBACK);
    assert_int_equal(class_of("10.1.2.3"), EGRESS_PRIVATE);
    assert_int_equal(class_of("172.16.0.1"), EGRESS_PRIVATE);
    assert_int_equal(class_of("172.31.255.255"), EGRESS_PRIVATE);
    assert_int_equal(class_of("172.32.0.1"), EGRESS_PUBLIC);
    assert_int_equal(class_of("192.168.1.1"), EGRESS_PRIVATE);
    assert_int_equal(class_of("100.64.0.1"), EGRESS_PRIVATE);
    assert_int_equal(class_of("169.254.169.254"), EGRESS_LINK_LOCAL);
    assert_int_equal(class_of("169.254.0.1"), EGRESS_LINK_LOCAL);
    assert_int_equal(class_of("0.0.0.0"), EGRESS_UNSPECIFIED);
    assert_int_equal(class_of("0.1.2.3"), EGRESS_UNSPECIFIED);
    assert_int_equal(class_of("224.0.0.1"), EGRESS_MULTICAST);
    assert_int_equal(class_of("255.255.255.255"), EGRESS_MULTICAST);
    assert_int_equal(class_of("240.0.0.1"), EGRESS_RESERVED);
    assert_int_equal(class_of("192.0.2.7"), EGRESS_RESERVED);
    assert_int_equal(class_of("8.8.8.8"), EGRESS_PUBLIC);
    assert_int_equal(class_of("::1"), EGRESS_LOOPBACK);
    assert_int_equal(class_of("::"), EGRESS_UNSPECIFIED);
    assert_int_equal(class_of("fe80::1"), EGRESS_LINK_LOCAL);
    assert_int_equal(class_of("febf::1"), EGRESS_LINK_LOCAL);
    assert_int_equal(class_of("fd00:ec2::254"), EGRESS_LINK_LOCAL);
    assert_int_equal(class_of("fd00:ec2::253"), EGRESS_PRIVATE);
    assert_int_equal(class_of("fc00::1"), EGRESS_PRIVATE);
    assert_int_equal(class_of("ff02::1"), EGRESS_MULTICAST);
    assert_int_equal(class_of("2001:db8::1"), EGRESS_RESERVED);
    assert_int_equal(class_of("2606:4700::1111"), EGRESS_PUBLIC);
    /* IPv4 inside IPv6: mapped, NAT64 and 6to4 are the IPv4 address they carry. */
    assert_int_equal(class_of("::ffff:127.0.0.1"), EGRESS_LOOPBACK);
    assert_int_equal(class_of("::ffff:169.254.169.254"), EGRESS_LINK_LOCAL);
    assert_int_equal(class_of("::ffff:10.0.0.1"), EGRESS_PRIVATE);
    assert_int_equal(class_of("::ffff:8.8.8.8"), EGRESS_PUBLIC);
    assert_int_equal(class_of("64:ff9b::a9fe:a9fe"), EGRESS_LINK_LOCAL);
    assert_int_equal(class_of("2002:7f00:1::"), EGRESS_LOOPBACK);
    assert_int_equal(class_of("::127.0.0.1"), EGRESS_RESERVED); /* old IPv4-compatible */
    assert_string_equal(egress_class_name(EGRESS_LOOPBACK), "loopback");
}

static void test_default_denies_non_public_with_fixed_text(void **state) {
    (void)state;
    char why[EGRESS_DENIAL_MAX];
    configure(NULL, NULL);
    assert_false(allowed("127.0.0.1", 6000, why, sizeof why));
    assert_string_equal(why, "egress policy denies 127.0.0.1:6000 (loopback); an operator may "
                             "allow it with --egress-allow");
    assert_false(allowed("::ffff:127.0.0.1", 6000, why, sizeof why));
    assert_string_equal(why, "egress policy denies 127.0.0.1:6000 (loopback); an operator may "
                             "allow it with --egress-allow");
    assert_false(allowed("::1", 5000, why, sizeof why));
    assert_string_equal(why, "egress policy denies [::1]:5000 (loopback); an operator may allow "
                             "it with --egress-allow");
    assert_false(allowed("0.0.0.0", 80, why, sizeof why));
    assert_non_null(strstr(why, "(unspecified)"));
    assert_false(allowed("10.0.0.1", 443, why, sizeof why));
    assert_non_null(strstr(why, "(private)"));
    assert_false(allowed("169.254.169.254", 80, why, sizeof why));
    assert_string_equal(why, "egress policy denies 169.254.169.254:80 (link-local or cloud "
                             "metadata address; never allowed)");
    assert_true(allowed("8.8.8.8", 443, why, sizeof why));
    assert_true(allowed("2606:4700::1111", 443, why, sizeof why));
}

static void test_cidr_and_host_port_entries(void **state) {
    (void)state;
    char why[EGRESS_DENIAL_MAX];
    static const char *const allow[] = {"127.0.0.0/8", "10.1.0.0/16", "[::1]:5000",
                                        "192.168.7.9", "fd12::/16",   "172.16.0.1:6000",
                                        NULL};
    configure(allow, NULL);
    assert_true(allowed("127.0.0.1", 1, why, sizeof why));
    assert_true(allowed("127.9.9.9", 65535, why, sizeof why));
    assert_true(allowed("::ffff:127.0.0.1", 80, why, sizeof why)); /* mapped form, same rule */
    assert_true(allowed("10.1.200.3", 80, why, sizeof why));
    assert_false(allowed("10.2.0.1", 80, why, sizeof why));
    assert_true(allowed("::1", 5000, why, sizeof why));
    assert_false(allowed("::1", 5001, why, sizeof why));
    assert_true(allowed("192.168.7.9", 1234, why, sizeof why));
    assert_false(allowed("192.168.7.10", 1234, why, sizeof why));
    assert_true(allowed("fd12:3::1", 443, why, sizeof why));
    assert_false(allowed("fd13::1", 443, why, sizeof why));
    assert_true(allowed("172.16.0.1", 6000, why, sizeof why));
    assert_false(allowed("172.16.0.1", 6001, why, sizeof why));
    assert_true(egress_host_allowed("127.0.0.1:5000", 80));
    assert_true(egress_host_allowed("localhost:5000", 80));
    assert_true(egress_host_allowed("[::1]:5000", 80));
    assert_false(egress_host_allowed("[::1]:5001", 80));
    assert_false(egress_host_allowed("registry.example:5000", 80)); /* names: not here */
}

static void test_metadata_denied_even_when_allowed(void **state) {
    (void)state;
    char why[EGRESS_DENIAL_MAX];
    static const char *const allow[] = {
        "0.0.0.0/0",          "::/0", "169.254.0.0/16", "169.254.169.254:80", "fe80::/10",
        "[fd00:ec2::254]:80", NULL};
    configure(allow, NULL);
    assert_false(allowed("169.254.169.254", 80, why, sizeof why));
    assert_non_null(strstr(why, "never allowed"));
    assert_false(allowed("::ffff:169.254.169.254", 80, why, sizeof why));
    assert_false(allowed("fd00:ec2::254", 80, why, sizeof why));
    assert_false(allowed("fe80::1", 80, why, sizeof why));
    assert_false(allowed("100.100.100.200", 80, why, sizeof why));
    assert_true(allowed("10.0.0.1", 80, why, sizeof why));
}

static void test_own_address_needs_exact_entry(void **state) {
    (void)state;
    char why[EGRESS_DENIAL_MAX];
    static const char *const allow[] = {"127.0.0.0/8", "::/0", NULL};
    static const char *const own[] = {"127.0.0.1:8080", "[::]:9090", NULL};
    configure(allow, own);
    assert_false(allowed("127.0.0.1", 8080, why, sizeof why));
    assert_string_equal(why, "egress policy denies 127.0.0.1:8080 (agynd's own address); an "
                             "operator may allow it with --egress-allow 127.0.0.1:8080");
    assert_false(allowed("::ffff:127.0.0.1", 8080, why, sizeof why));
    assert_false(allowed("0.0.0.0", 8080, why, sizeof why)); /* reaches the listener too */
    assert_true(allowed("127.0.0.1", 8081, why, sizeof why));
    /* A wildcard listen: every local address at that port is agynd. */
    assert_false(allowed("127.0.0.7", 9090, why, sizeof why));
    assert_false(allowed("::1", 9090, why, sizeof why));
    assert_true(allowed("::1", 9091, why, sizeof why));

    static const char *const exact[] = {"127.0.0.0/8", "127.0.0.1:8080", NULL};
    configure(exact, own);
    assert_true(allowed("127.0.0.1", 8080, why, sizeof why));

    static const char *const zero_port[] = {"127.0.0.1:0", NULL};
    configure(allow, zero_port);
    assert_true(allowed("127.0.0.1", 7070, why, sizeof why));
    struct agyn_error err = {0};
    assert_int_equal(egress_add_own_address("127.0.0.1:7070", &err), 0);
    assert_false(allowed("127.0.0.1", 7070, why, sizeof why));
}

static void test_public_scope_and_plain_http_rules(void **state) {
    (void)state;
    char why[EGRESS_DENIAL_MAX];
    static const char *const allow[] = {"10.0.0.0/8", "93.184.216.34/32", NULL};
    configure(allow, NULL);
    struct sockaddr_storage private_addr = addr_of("10.0.0.5", 443);
    struct sockaddr_storage public_addr = addr_of("8.8.8.8", 80);
    struct sockaddr_storage listed_public = addr_of("93.184.216.34", 80);
    assert_true(
        egress_address_allowed((struct sockaddr *)&private_addr, false, false, why, sizeof why));
    assert_false(
        egress_address_allowed((struct sockaddr *)&private_addr, true, false, why, sizeof why));
    assert_non_null(strstr(why, "may not move to a non-public one"));
    assert_true(
        egress_address_allowed((struct sockaddr *)&public_addr, true, false, why, sizeof why));
    assert_false(
        egress_address_allowed((struct sockaddr *)&public_addr, false, true, why, sizeof why));
    assert_string_equal(why, "egress policy denies plain HTTP to 8.8.8.8:80; use https, or an "
                             "operator may allow it with --egress-allow");
    assert_true(
        egress_address_allowed((struct sockaddr *)&listed_public, false, true, why, sizeof why));
}

static void test_bad_entries(void **state) {
    (void)state;
    static const char *const bad[] = {
        "",           "10.0.0.0/33",  "::1/129",       "10.0.0.0/",
        "10.0.0.0/x", "1.2.3.4:0",    "1.2.3.4:99999", "1.2.3.4:",
        "[::1",       "[::1]x",       "a b",           "host",
        "[::1]:",     "[nothost]:80", "1.2.3.4:8x",    "no-such-host.invalid:80",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct agyn_error err = {0};
        if (egress_check_allow_entry(bad[i], &err) != -1)
            fail_msg("accepted \"%s\"", bad[i]);
        assert_int_equal(err.code, AGYN_INVALID_ARGUMENT);
        assert_true(err.message[0] != '\0');
    }
    static const char *const good[] = {"10.0.0.0/8", "::1/128",     "[::1]:5000",    "::1",
                                       "127.0.0.1",  "127.0.0.1:1", "localhost:5000"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        struct agyn_error err = {0};
        if (egress_check_allow_entry(good[i], &err) != 0)
            fail_msg("refused \"%s\": %s", good[i], err.message);
    }
    struct agyn_error err = {0};
    static const char *const bad_listen[] = {"nonsense", NULL};
    struct egress_config config = {.own_listen = bad_listen};
    assert_int_equal(egress_configure(&config, &err), -1);
}

static void test_thread_deadline(void **state) {
    (void)state;
    egress_set_thread_deadline_ms(0);
    assert_false(egress_deadline_passed());
    assert_int_equal(egress_timeout_ms(0), 0);
    assert_int_equal(egress_timeout_ms(5000), 5000);
    egress_set_thread_deadline_ms(clock_monotonic_ms() + 60000);
    assert_int_equal(egress_timeout_ms(5000), 5000);
    long left = egress_timeout_ms(0);
    assert_true(left > 50000 && left <= 60000);
    assert_true(egress_timeout_ms(600000) <= 60000);
    egress_set_thread_deadline_ms(clock_monotonic_ms() - 1);
    assert_true(egress_deadline_passed());
    assert_int_equal(egress_timeout_ms(5000), 1);
    struct agyn_error err = {0};
    assert_int_equal(egress_deadline_error(&err, "vault"), -1);
    assert_string_equal(err.message, "vault: the outbound deadline passed");
    egress_set_thread_deadline_ms(0);
}

/* A listening socket on 127.0.0.1 (non-blocking accept); returns its port. */
static int listen_loopback(int *fd_out) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(fd, 8), 0);
    socklen_t len = sizeof a;
    getsockname(fd, (struct sockaddr *)&a, &len);
    fcntl(fd, F_SETFL, O_NONBLOCK);
    *fd_out = fd;
    return ntohs(a.sin_port);
}

static bool was_connected(int fd) {
    int conn = accept(fd, NULL, NULL);
    if (conn >= 0) {
        close(conn);
        return true;
    }
    return false;
}

static CURLcode fetch(const char *url, struct egress_request *req) {
    CURL *easy = curl_easy_init();
    curl_easy_setopt(easy, CURLOPT_URL, url);
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, 2000L);
    egress_curl_apply(easy, req, 300);
    CURLcode code = curl_easy_perform(easy);
    curl_easy_cleanup(easy);
    return code;
}

static void test_curl_hook_checks_the_connected_address(void **state) {
    (void)state;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int fd;
    int port = listen_loopback(&fd);
    char url[128], expected[EGRESS_DENIAL_MAX];
    snprintf(expected, sizeof expected,
             "egress policy denies 127.0.0.1:%d (loopback); an operator may allow it with "
             "--egress-allow",
             port);
    configure(NULL, NULL);
    /* Listening port, odd spellings of the same address: refused before connecting, same text. */
    const char *const spellings[] = {"http://127.0.0.1:%d/", "http://2130706433:%d/",
                                     "http://0x7f.1:%d/", "http://[::ffff:127.0.0.1]:%d/"};
    for (size_t i = 0; i < sizeof spellings / sizeof spellings[0]; i++) {
        struct egress_request req;
        egress_request_init(&req, NULL);
        snprintf(url, sizeof url, spellings[i], port);
        assert_int_not_equal(fetch(url, &req), CURLE_OK);
        assert_true(egress_request_was_denied(&req));
        assert_string_equal(req.denial, expected);
        assert_false(was_connected(fd));
    }
    /* A closed port reads the same. */
    int closed_fd;
    int closed = listen_loopback(&closed_fd);
    close(closed_fd);
    struct egress_request req;
    egress_request_init(&req, NULL);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/", closed);
    fetch(url, &req);
    assert_true(egress_request_was_denied(&req));
    assert_non_null(strstr(req.denial, "(loopback); an operator may allow it"));
    /* http://0 is 0.0.0.0, which reaches local listeners: refused. */
    egress_request_init(&req, NULL);
    snprintf(url, sizeof url, "http://0:%d/", port);
    fetch(url, &req);
    assert_true(egress_request_was_denied(&req));
    assert_non_null(strstr(req.denial, "(unspecified)"));
    assert_false(was_connected(fd));

    /* Allowed: the connection is made (the listener never answers; the 300 ms cap ends it). */
    char entry[64];
    snprintf(entry, sizeof entry, "127.0.0.1:%d", port);
    const char *const allow[] = {entry, NULL};
    configure(allow, NULL);
    struct egress_scope scope;
    egress_scope_init(&scope);
    egress_request_init(&req, &scope);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/", port);
    assert_int_equal(fetch(url, &req), CURLE_OPERATION_TIMEDOUT);
    assert_false(egress_request_was_denied(&req));
    assert_true(req.tried_allowed);
    assert_int_equal(scope.first_public, 0);
    assert_true(was_connected(fd));
    close(fd);
    configure(NULL, NULL);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_classes),
        cmocka_unit_test(test_default_denies_non_public_with_fixed_text),
        cmocka_unit_test(test_cidr_and_host_port_entries),
        cmocka_unit_test(test_metadata_denied_even_when_allowed),
        cmocka_unit_test(test_own_address_needs_exact_entry),
        cmocka_unit_test(test_public_scope_and_plain_http_rules),
        cmocka_unit_test(test_bad_entries),
        cmocka_unit_test(test_thread_deadline),
        cmocka_unit_test(test_curl_hook_checks_the_connected_address),
    };
    return cmocka_run_group_tests_name("egress", tests, NULL, NULL);
}
