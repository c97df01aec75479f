<?php

declare(strict_types=1);

namespace Seiger\sTask\Doctor;

/** One line of stask:doctor: what was checked, the outcome, and the fix when it failed. */
final class Check
{
    public const OK = 'ok';
    public const FAIL = 'fail';
    /** Not checked (it depends on a check that failed, or does not apply here); never fails the run. */
    public const SKIP = 'skip';

    public function __construct(
        public readonly string $name,
        public readonly string $status,
        public readonly string $detail,
        public readonly string $fix = '',
    ) {
    }

    public static function ok(string $name, string $detail): self
    {
        return new self($name, self::OK, $detail);
    }

    public static function fail(string $name, string $detail, string $fix): self
    {
        return new self($name, self::FAIL, $detail, $fix);
    }

    public static function skip(string $name, string $detail): self
    {
        return new self($name, self::SKIP, $detail);
    }

    public function failed(): bool
    {
        return $this->status === self::FAIL;
    }

    /** `[ ok ] name: detail`, `[FAIL] name: detail. Fix: ...`, `[skip] name: detail`: one line. */
    public function line(): string
    {
        $tag = ['ok' => '[ ok ]', 'fail' => '[FAIL]', 'skip' => '[skip]'][$this->status] ?? '[????]';
        $detail = rtrim(preg_replace('/\s+/', ' ', $this->detail), '. ');
        $line = $tag . ' ' . $this->name . ': ' . $detail;
        if ($this->status === self::FAIL && $this->fix !== '') {
            $line .= '. Fix: ' . rtrim(preg_replace('/\s+/', ' ', $this->fix));
        }

        return $line;
    }

    /** @return array{name:string,status:string,detail:string,fix:string} */
    public function toArray(): array
    {
        return ['name' => $this->name, 'status' => $this->status, 'detail' => $this->detail, 'fix' => $this->fix];
    }
}
