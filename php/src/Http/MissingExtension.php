<?php

declare(strict_types=1);

namespace Seiger\sTask\Http;

use Illuminate\Http\JsonResponse;
use Illuminate\Http\Request;
use Illuminate\Http\Response;
use Seiger\sTask\Doctor\WebReport;
use Seiger\sTask\Support\ExtensionVersion;
use Seiger\sTask\sTaskServiceProvider;

/**
 * What the module tab and the API answer in a PHP that has not loaded the
 * stask extension: how to load it, never an error page of the host.
 */
final class MissingExtension
{
    public function page(Request $request)
    {
        if ($request->wantsJson()) {
            return $this->api();
        }
        // What stask:doctor reports about the web server's PHP.
        WebReport::record(DoctorProbe::storage(), WebReport::current());
        $message = htmlspecialchars(sTaskServiceProvider::missingExtensionMessage(), ENT_QUOTES, 'UTF-8');
        $ini = htmlspecialchars((string) (php_ini_loaded_file() ?: 'none'), ENT_QUOTES, 'UTF-8');
        $scanned = htmlspecialchars(PHP_CONFIG_FILE_SCAN_DIR !== '' ? PHP_CONFIG_FILE_SCAN_DIR : 'none', ENT_QUOTES, 'UTF-8');
        if (ExtensionVersion::mismatched()) {
            // Loaded, but not a version this package works with: both versions, and what to swap.
            $title = 'sTask: the stask extension is another version';
            $what = 'This PHP reads <code>' . $ini . '</code> and the folder <code>' . $scanned . '</code>. Replace the '
                . '<code>stask.so</code> it loads (<code>' . htmlspecialchars((string) ini_get('extension_dir'), ENT_QUOTES, 'UTF-8')
                . '</code>) with stask ' . htmlspecialchars(ExtensionVersion::SUPPORTED, ENT_QUOTES, 'UTF-8')
                . ', restart the web server\'s PHP and the workers, and reload this page.';
        } else {
            $title = 'sTask: the stask extension is not loaded';
            $what = "This PHP reads <code>{$ini}</code> and the folder <code>{$scanned}</code>.
            Add the line <code>extension=stask</code> there (a file such as <code>stask.ini</code> in that folder),
            restart the web server's PHP, and reload this page.";
        }
        $html = <<<HTML
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><title>{$title}</title>
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <style>body{font:15px/1.5 system-ui,sans-serif;margin:2rem;max-width:48rem;color:#1f2937}
            code{background:#f3f4f6;padding:.1rem .3rem;border-radius:3px}
            @media (prefers-color-scheme: dark){body{background:#1f2328;color:#e5e7eb}code{background:#374151}}</style></head>
            <body><h1>sTask cannot run in this PHP</h1>
            <p id="stask-missing-extension">{$message}</p>
            <p>{$what}</p></body></html>
            HTML;

        return new Response($html, 503, [
            'Content-Type' => 'text/html; charset=utf-8',
            'Cache-Control' => 'no-store',
            'Retry-After' => '300',
        ]);
    }

    public function api(): JsonResponse
    {
        return new JsonResponse([
            'success' => false,
            'code' => 503,
            'error' => ExtensionVersion::mismatched()
                ? 'The stask extension ' . ExtensionVersion::loaded() . ' is outside ' . ExtensionVersion::SUPPORTED
                : 'The stask extension is not loaded',
            'message' => sTaskServiceProvider::missingExtensionMessage(),
        ], 503, ['Cache-Control' => 'no-store', 'Retry-After' => '300']);
    }
}
