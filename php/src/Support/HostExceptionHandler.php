<?php

declare(strict_types=1);

namespace Seiger\sTask\Support;

use Illuminate\Contracts\Debug\ExceptionHandler;

/**
 * Laravel's ExceptionHandler contract for a core that has none, bound only
 * when the package brings schedule:run there (Evolution CMS 3.1 binds its own
 * handler under the service name `ExceptionHandler`, an object that is not
 * this contract, and ScheduleRunCommand asks for the contract). It reports
 * what a scheduled command threw to the host's log and lets everything else
 * behave as before.
 */
final class HostExceptionHandler implements ExceptionHandler
{
    public function report(\Throwable $e)
    {
        HostLog::error('A scheduled command failed: ' . $e->getMessage(), $e);
    }

    public function shouldReport(\Throwable $e)
    {
        return true;
    }

    public function render($request, \Throwable $e)
    {
        throw $e;
    }

    public function renderForConsole($output, \Throwable $e)
    {
        $output->writeln('<error>' . get_class($e) . ': ' . $e->getMessage() . '</error>');
    }
}
