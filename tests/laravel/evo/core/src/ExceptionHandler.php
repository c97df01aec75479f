<?php

namespace EvolutionCMS;

/**
 * The core's own exception handler, bound only as the service
 * `ExceptionHandler` (EvolutionCMS\Providers\ExceptionHandlerServiceProvider).
 * Like the 3.1 core's, it is not Laravel's Illuminate\Contracts\Debug\ExceptionHandler:
 * it installs PHP's handlers and shows an error page. Here an uncaught
 * exception is written to core/storage/logs/exceptions.log and answered
 * with an empty 500, which is what a visitor saw of a provider that threw.
 */
class ExceptionHandler
{
    public function __construct()
    {
        set_exception_handler([$this, 'handleException']);
    }

    public function handleException(\Throwable $e): void
    {
        $dir = EVO_CORE_PATH . 'storage/logs';
        if (!is_dir($dir)) {
            @mkdir($dir, 0755, true);
        }
        file_put_contents($dir . '/exceptions.log', get_class($e) . ': ' . $e->getMessage() . "\n" . $e->getTraceAsString() . "\n", FILE_APPEND);
        if (PHP_SAPI === 'cli') {
            fwrite(STDERR, get_class($e) . ': ' . $e->getMessage() . "\n");
            exit(1);
        }
        if (!headers_sent()) {
            http_response_code(500);
        }
    }

    public function messageQuit($msg = 'unspecified error'): void
    {
        throw new \RuntimeException((string) $msg);
    }
}
