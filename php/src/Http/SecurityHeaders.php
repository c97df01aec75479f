<?php

declare(strict_types=1);

namespace Seiger\sTask\Http;

use Symfony\Component\HttpFoundation\ResponseHeaderBag;

/**
 * The security headers of everything the module serves, in one place: the
 * standalone front controller (php/public/index.php) and the Laravel /
 * Evolution adapter (HttpAdapter) both send these lists, so the two faces
 * cannot drift apart.
 *
 * The module is shown inside the Evolution manager, which frames it: hence
 * `X-Frame-Options: SAMEORIGIN` and `frame-ancestors 'self'` rather than
 * DENY / 'none'. Scripts come only from the package's own files (the page's
 * configuration is a JSON script element, not code); worker widgets may
 * carry inline styles. `X-Powered-By` is removed: it tells an attacker the
 * PHP version and nothing useful to anyone else.
 */
final class SecurityHeaders
{
    /** The admin page (HTML). */
    public const PAGE = [
        'X-Content-Type-Options' => 'nosniff',
        'X-Frame-Options' => 'SAMEORIGIN',
        'Referrer-Policy' => 'same-origin',
        'Content-Security-Policy' => "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
            . "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'self'",
    ];

    /**
     * Every other response (API JSON, downloads, the page's assets): never
     * sniffed into a page, never framed by another site, and inert if a
     * browser opens it as a document.
     */
    public const RESPONSE = [
        'X-Content-Type-Options' => 'nosniff',
        'X-Frame-Options' => 'SAMEORIGIN',
        'Referrer-Policy' => 'same-origin',
        'Content-Security-Policy' => "default-src 'none'; frame-ancestors 'self'",
    ];

    /** Plain PHP: sends $headers (replacing earlier ones of the same name) and drops X-Powered-By. */
    public static function send(array $headers): void
    {
        self::removePoweredBy();
        foreach ($headers as $name => $value) {
            header($name . ': ' . $value);
        }
    }

    /** Symfony / Laravel responses: sets $headers on the bag and drops X-Powered-By. */
    public static function apply(ResponseHeaderBag $bag, array $headers): void
    {
        self::removePoweredBy();
        foreach ($headers as $name => $value) {
            $bag->set($name, $value);
        }
        $bag->remove('X-Powered-By');
    }

    /** PHP adds X-Powered-By (expose_php) before the script runs; take it back. */
    public static function removePoweredBy(): void
    {
        if (!headers_sent()) {
            header_remove('X-Powered-By');
        }
    }
}
