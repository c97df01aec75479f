<?php

namespace App\Jobs;

use Illuminate\Bus\Queueable;
use Illuminate\Contracts\Queue\ShouldQueue;
use Illuminate\Foundation\Bus\Dispatchable;
use Illuminate\Queue\InteractsWithQueue;
use Illuminate\Queue\SerializesModels;

/**
 * Appends its marker to storage/demo-job.txt on every attempt; with $fail it
 * then throws, and failed() (called once the attempts are used up) writes
 * storage/demo-job-failed.txt.
 */
class DemoJob implements ShouldQueue
{
    use Dispatchable, InteractsWithQueue, Queueable, SerializesModels;

    /** Attempts Laravel allows (the payload's maxTries). */
    public $tries;

    public function __construct(public string $marker, public bool $fail = false, ?int $tries = null)
    {
        $this->tries = $tries;
    }

    public function handle(): void
    {
        file_put_contents(storage_path('demo-job.txt'), $this->marker . "\n", FILE_APPEND | LOCK_EX);
        if ($this->fail) {
            throw new \RuntimeException("demo job {$this->marker} failed");
        }
    }

    public function failed(\Throwable $e): void
    {
        file_put_contents(storage_path('demo-job-failed.txt'), $this->marker . ': ' . $e->getMessage() . "\n", FILE_APPEND | LOCK_EX);
    }
}
